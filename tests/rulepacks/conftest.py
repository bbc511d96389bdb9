"""Rule-pack fixtures: a small US schedule loaded through the tariffs service, packs, cases."""

import csv
import datetime as dt
import io

import pytest

from rulepacks import services
from tariffs import parsers
from tariffs import services as tariff_services
from tests.rulepacks.fakes import pack_source
from workbench.roles import Role

REVISION = "2026 Rev 4 (test)"
# (HTS number, indent, description, general rate) — parents first, as the USITC export has them.
SCHEDULE = [
    ("4303", 0, "Articles of apparel, clothing accessories and other articles of furskin:", ""),
    ("4303.10.00", 1, "Articles of apparel and clothing accessories", "4%"),
    ("4303.10.00.30", 2, "Of mink", ""),
    ("4303.10.00.60", 2, "Other", ""),
    ("6109", 0, "T-shirts, singlets, tank tops and similar garments, knitted or crocheted:", ""),
    ("6109.10.00", 1, "Of cotton", "16.5%"),
    ("6109.10.00.12", 2, "Men's (338)", ""),
    ("6109.10.00.40", 2, "Women's (339)", ""),
    ("6110", 0, "Sweaters, pullovers, sweatshirts, waistcoats (vests), knitted:", ""),
    ("6110.20.20", 1, "Of cotton, other", "16.5%"),
    ("6110.20.20.79", 2, "Other (339)", ""),
    ("6110.30.30", 1, "Of man-made fibers, other", "32%"),
    ("6110.30.30.59", 2, "Other (639)", ""),
    ("8211", 0, "Knives with cutting blades, serrated or not:", ""),
    (
        "8211.92.20.00",
        1,
        "Kitchen and butcher knives with rubber or plastic handles",
        "0.8¢ each + 4.6%",
    ),
    ("8507", 0, "Electric storage batteries:", ""),
    ("8507.60.00", 1, "Lithium-ion batteries", "3.4%"),
    ("8507.60.00.20", 2, "Other", ""),
    ("9503.00.00", 0, "Tricycles, scooters, dolls, other toys", "Free"),
    ("9503.00.00.73", 1, "Children's products, 3 to 12 years of age", ""),
]


def schedule_csv(rows=SCHEDULE) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(parsers.USITC_HEADER)
    for number, indent, description, rate in rows:
        writer.writerow([number, indent, description, "", rate, "", "", "", ""])
    return out.getvalue().encode()


def load_schedule(revision=REVISION, rows=SCHEDULE, day=1):
    return tariff_services.schedule_load_usitc(
        actor=None,
        source=parsers.Source(f"{revision}.csv", schedule_csv(rows)),
        revision=revision,
        effective_date=dt.date(2026, 1, day),
    ).obj


@pytest.fixture
def us_schedule(db):
    """A tiny US schedule holding every code of the test pack (``tests.rulepacks.fakes``)."""
    return load_schedule()


def real_pack_source(**kwargs) -> str:
    """The fake-reference test pack with the codes of the small real schedule."""
    source = pack_source(**kwargs)
    return source.replace("8211920000", "8211922000").replace("4303101000", "4303100060")


def cases_toml(n=12, start=0) -> bytes:
    """``n`` uploaded backtest cases that the test pack classifies correctly."""
    chunks = []
    for i in range(start, start + n):
        chunks.append(
            f'[[cases]]\nid = "tee-{i}"\ncode = "6109100012"\n[cases.facts]\n'
            f'name = "Men\'s tee {i}"\ndescription = "Men\'s knitted cotton t-shirt {i}"\n'
            f'materials = ["cotton"]\ncountry_of_origin = "BD"\nintended_use = "casual wear"\n'
            f'product_type = "apparel"\n'
        )
    return "\n".join(chunks).encode()


@pytest.fixture
def lead(cast):
    return cast.users[Role.COMPLIANCE_LEAD]


@pytest.fixture
def make_pack(cast, lead, us_schedule):
    """Create a draft; ``stage`` takes it to validated, backtested or active."""

    def make(source=None, *, stage="draft", cases=12, tenant=None):
        pack = services.rulepack_create(
            actor=lead,
            tenant=tenant or cast.tenant,
            jurisdiction="US",
            source=source or real_pack_source(),
        )
        if stage == "draft":
            return pack
        if cases:
            pack = services.rulepack_cases_upload(
                actor=lead, pack=pack, filename="cases.toml", content=cases_toml(cases)
            )
        pack = services.rulepack_validate(actor=lead, pack=pack)
        if stage == "validated" or pack.status != "validated":
            return pack
        pack = services.rulepack_backtest(actor=lead, pack=pack)
        if stage == "backtested":
            return pack
        return services.rulepack_activate(actor=lead, pack=pack)

    return make
