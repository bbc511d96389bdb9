import pytest
from django.core.exceptions import ImproperlyConfigured

from workbench import env


@pytest.mark.parametrize(
    "raw,expected",
    [("1", True), ("true", True), ("Yes", True), ("0", False), ("off", False), ("", False)],
)
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.get_bool("X_FLAG") is expected


def test_a_misspelt_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='ture' is not a boolean"):
        env.get_bool("X_FLAG")


def test_integers_refuse_text_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("X_INT", "50MB")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env.get_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env.get_int("X_INT", 5, minimum=1)
    monkeypatch.setenv("X_INT", "1_000")
    assert env.get_int("X_INT", 5) == 1000


def test_lists_split_on_commas_and_drop_blanks(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example , ,b.example")
    assert env.get_list("X_LIST") == ["a.example", "b.example"]


def test_database_urls_are_parsed_and_other_schemes_refused():
    db = env.parse_database_url("postgres://wb:p%40ss@db.internal:6432/workbench?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "wb",
        "p@ss",
        "db.internal",
        "6432",
        "workbench",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured, match="needs PostgreSQL"):
        env.parse_database_url("mysql://u@h/db")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env.parse_database_url("postgres://u@h:5432/")
