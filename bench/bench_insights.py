"""Compliance dashboard speed with 200,000 decisions and 50,000 review actions in one tenant.

Runs in its own database (EMBEDDED_DB_NAME=workbench_bench_insights, or DATABASE_URL). Reuses
the review bench's set-based generator (decisions spread over 100 days), then finalizes 60 % of
them (a quarter of those overridden), spreads the winning evidence over sources and rules, and
writes 50,000 review actions by five brokers. These being written by hand, the dashboard's
tallies are then counted from them (``review.tallies.tally_rebuild``, as migration 0015 does)
and the tables vacuumed, as autovacuum would after such a load. Measures, through Django's full
request stack, the dashboard page (compliance lead) for 7, 30 and 90 days, a custom period, and
30 and 90 days filtered to a jurisdiction, and prints the bare-SQL floor beside each: the
selectors alone, without the view, templates or SVG. Target (issue 19): page p95 ≤ 300 ms.
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["EMBEDDED_DB_NAME"] = "workbench_bench_insights"

import django  # noqa: E402

django.setup()  # before bench_review, whose own database name then no longer applies

import bench_review  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

ACTIONS = int(os.environ.get("BENCH_ACTIONS", "50000"))
SHAPE = """
UPDATE classification_reviewstate s SET
    selected_code = d.selected_code,
    evidence_source = (ARRAY['rule','precedent','search','semantic','rule'])[1 + d.id % 5],
    rule_id = CASE WHEN d.id % 5 IN (0, 4) THEN 'rule-' || (d.id % 12) ELSE '' END,
    declared_duty = CASE WHEN d.id % 7 = 0 THEN 3.50 + (d.id % 40) END,
    decision_created_at = d.created_at
  FROM classification_decision d WHERE d.id = s.decision_id AND s.tenant_id = %(t)s;
UPDATE classification_reviewstate SET status = 'final', queue = 'decided',
    final_code = CASE WHEN decision_id % 4 = 0 OR selected_code = '' THEN '6110309000'
                      ELSE selected_code END,
    decided_by_id = %(u)s,
    decided_at = decision_created_at + ((decision_id * 7) % 96) * interval '1 hour'
  WHERE tenant_id = %(t)s AND decision_id % 10 < 6;
UPDATE classification_reviewstate SET status = 'info_requested', queue = 'info_requested'
  WHERE tenant_id = %(t)s AND decision_id % 50 = 7;
"""
ACTION_SQL = """
INSERT INTO classification_reviewaction (tenant_id, decision_id, actor_id, kind, version, code,
    reason_code, route, note, ruling_reference, data, created_at)
SELECT %(t)s, s.decision_id, (ARRAY[%(users)s])[1 + s.decision_id %% 5],
       CASE WHEN s.final_code = s.selected_code THEN 'accept' ELSE 'override' END, 2,
       s.final_code, '', '', '', '', '{}', s.decided_at
  FROM classification_reviewstate s
 WHERE s.tenant_id = %(t)s AND s.status = 'final'
 ORDER BY s.decision_id LIMIT %(n)s
"""


def shape(tenant) -> None:
    User = get_user_model()
    users = []
    for i in range(5):
        user, _ = User.objects.get_or_create(username=f"bench-broker-{i}")
        users.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE classification_reviewaction DISABLE TRIGGER USER")
        cursor.execute(SHAPE.replace("%(t)s", str(tenant.pk)).replace("%(u)s", str(users[0])))
        cursor.execute(
            ACTION_SQL.replace("%(users)s", ",".join(map(str, users)))
            .replace("%(t)s", str(tenant.pk))
            .replace("%(n)s", str(ACTIONS))
            .replace("%%", "%")
        )
        cursor.execute("ALTER TABLE classification_reviewaction ENABLE TRIGGER USER")
        cursor.execute("ANALYZE")


def main() -> None:
    from classification.models import ReviewAction, ReviewTally
    from classification.review import tallies
    from insights import dashboard, selectors

    tenant = bench_review.prepare()
    wrote = False
    if not ReviewAction.objects.filter(tenant=tenant).exists():
        started = time.perf_counter()
        shape(tenant)
        print(f"shaped review states and actions in {time.perf_counter() - started:.1f} s")
        wrote = True
    if wrote or not ReviewTally.objects.filter(tenant=tenant, figure="actions").exists():
        started = time.perf_counter()
        with transaction.atomic():
            tallies.tally_rebuild(tenant.pk)
        print(f"counted the dashboard's tallies in {time.perf_counter() - started:.1f} s")
        wrote = True
    if wrote:  # what autovacuum does after a bulk load (the visibility map for index-only scans)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE classification_reviewstate, classification_reviewaction")
            cursor.execute("ANALYZE")
    print(
        f"{ReviewTally.objects.filter(tenant=tenant).count():,} tally rows; "
        f"{ReviewAction.objects.filter(tenant=tenant).count():,} actions"
    )
    lead = get_user_model().objects.get(username="compliance")
    client = Client(HTTP_HOST="localhost")
    client.force_login(lead)
    links = {"review": "/r/", "decision": lambda pk: f"/d/{pk}/"}
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=70), today - dt.timedelta(days=11)
    cases = [
        ("7 days", "period=7", selectors.last_days(7)),
        ("30 days", "period=30", selectors.last_days(30)),
        ("90 days", "period=90", selectors.last_days(90)),
        (
            f"custom {start:%d %b}–{end:%d %b}",
            f"period=custom&start={start}&end={end}",
            selectors.Period(start, end),
        ),
        ("30 days, US", "period=30&jurisdiction=US", selectors.last_days(30, "US")),
        ("90 days, US", "period=90&jurisdiction=US", selectors.last_days(90, "US")),
    ]
    for label, query, period in cases:
        url = f"/t/{tenant.slug}/insights/?{query}"
        assert client.get(url).status_code == 200
        bench_review.report(
            f"dashboard page, {label}", bench_review.timed(lambda u=url: client.get(u)), 300
        )
        bench_review.report(
            "  floor: the selectors alone",
            bench_review.timed(lambda p=period: dashboard.build(tenant, p, links=links, full=True)),
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
