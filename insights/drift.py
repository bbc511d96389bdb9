"""Policy drift figures of one active pack, measured against its ``[monitoring]`` thresholds.

Reads only (one query per figure); ``insights.services.drift_evaluate`` turns the conditions
found here into alerts.
"""

from dataclasses import dataclass

from django.db import connection

# Checked codes: a person decided them, or a spot check confirmed or corrected them.
_CHECKED = (
    "status = 'final' AND (decided_by_id IS NOT NULL OR spot_check IN ('confirmed', 'corrected'))"
)


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str
    figures: dict


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def conditions(pack, compiled) -> list[Condition]:
    """Return the drift conditions that hold for ``pack`` (active) now."""
    m = compiled.monitoring
    n = m.min_decisions
    scope = [pack.tenant_id, pack.jurisdiction, pack.version]
    where = "tenant_id = %s AND jurisdiction = %s AND rule_pack_version = %s"
    found = []
    for rule_id, total, moved in _rows(
        f"""SELECT rule_id, count(*), count(*) FILTER (WHERE final_code <> selected_code)
              FROM (SELECT rule_id, final_code, selected_code, row_number() OVER (
                           PARTITION BY rule_id ORDER BY decided_at DESC, decision_id DESC) AS rn
                      FROM classification_reviewstate
                     WHERE {where} AND {_CHECKED} AND rule_id <> '' AND selected_code <> '') t
             WHERE rn <= %s GROUP BY rule_id HAVING count(*) >= %s ORDER BY rule_id""",
        [*scope, n, n],
    ):
        rate = moved / total
        if rate >= m.rule_override_rate:
            found.append(
                Condition(
                    "rule_override",
                    rule_id,
                    {
                        "override_rate": round(rate, 4),
                        "overridden": moved,
                        "decisions": total,
                        "threshold": m.rule_override_rate,
                    },
                )
            )
    [(total, review)] = _rows(
        f"""SELECT count(*), count(*) FILTER (WHERE outcome = 'needs_review')
              FROM (SELECT outcome FROM classification_reviewstate WHERE {where}
                     ORDER BY decision_created_at DESC, decision_id DESC LIMIT %s) t""",
        [*scope, n],
    )
    backtest = (pack.backtest_report or {}).get("review_rate")
    if total >= n and backtest is not None and review / total > backtest + m.review_rate_margin:
        found.append(
            Condition(
                "review_rate",
                pack.version,
                {
                    "review_rate": round(review / total, 4),
                    "decisions": total,
                    "backtest_review_rate": backtest,
                    "margin": m.review_rate_margin,
                },
            )
        )
    [(total, kept)] = _rows(
        f"""SELECT count(*), count(*) FILTER (WHERE final_code = selected_code)
              FROM (SELECT final_code, selected_code FROM classification_reviewstate
                     WHERE {where} AND {_CHECKED} AND outcome = 'classified'
                       AND selected_code <> ''
                     ORDER BY decided_at DESC, decision_id DESC LIMIT %s) t""",
        [*scope, n],
    )
    target = compiled.precision_target
    if total >= n and kept / total < target:
        found.append(
            Condition(
                "automation_precision",
                pack.version,
                {
                    "precision": round(kept / total, 4),
                    "kept": kept,
                    "decisions": total,
                    "target": target,
                },
            )
        )
    return found
