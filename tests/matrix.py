"""The URL × actor access matrix, reused by every app's tests.

For one URL: anonymous users are redirected to login, a member of another tenant gets 404,
roles without the permission get 403, permitted roles get ``ok`` (200 by default).
"""

from workbench.roles import Role


def check_access_matrix(
    cast,
    url: str,
    allowed: set[str] | frozenset[str],
    *,
    method: str = "get",
    data: dict | None = None,
    ok: tuple[int, ...] = (200,),
) -> None:
    """Assert the matrix for ``url``; ``allowed`` is a set of role values."""
    unknown = set(allowed) - set(Role.values)
    assert not unknown, f"unknown roles in matrix: {unknown}"
    failures = []

    def call(who):
        client = cast.client(who)
        return getattr(client, method)(url, data or {})

    response = call("anonymous")
    if response.status_code != 302 or "/accounts/login/" not in response["Location"]:
        failures.append(f"anonymous: expected a login redirect, got {response.status_code}")
    response = call("outsider")
    if response.status_code != 404:
        failures.append(f"other tenant's member: expected 404, got {response.status_code}")
    for role in Role.values:
        expected = ok if role in allowed else (403,)
        status = call(role).status_code
        if status not in expected:
            failures.append(f"{role}: expected {expected}, got {status}")
    assert not failures, f"{method.upper()} {url}:\n  " + "\n  ".join(failures)
