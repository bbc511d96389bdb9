"""The dashboard's sections: each a chart, its plain-text summary and the table behind it.

Figures come from ``insights.selectors``; this module only words and draws them, so the
summary a screen reader hears and the chart a sighted user sees are made from the same numbers.
"""

from dataclasses import dataclass, field

from django.db import connection, transaction

from insights import charts, selectors

OUTCOME_LABELS = {"classified": "Classified", "needs_review": "Needs review", "blocked": "Blocked"}
SOURCE_LABELS = {
    "rule": "Pack rule",
    "precedent": "Precedent",
    "search": "Word search",
    "semantic": "Meaning",
    "lexicon": "Everyday term",
    "residual": "Material or parts line",
    "reading": "Structured reading",
    "none": "No evidence",
}


@dataclass
class Section:
    key: str
    title: str
    summary: str
    charts: list = field(default_factory=list)
    table: dict = field(default_factory=dict)  # {"head": [...], "rows": [[...], ...]}
    extra: dict = field(default_factory=dict)


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.1f}{unit}"


def _day(d) -> str:
    return d.strftime("%d %b")


def outcome_section(mix: list[dict], backtests: list[dict]) -> Section:
    labels = [_day(d["day"]) for d in mix]
    totals = {k: sum(d[k] for d in mix) for k in OUTCOME_LABELS}
    n = sum(totals.values())
    rate = totals["needs_review"] / n if n else None
    reference = None
    if len(backtests) == 1 and backtests[0]["review_rate"] is not None:
        b = backtests[0]
        reference = (f"Backtest review rate ({b['jurisdiction']} {b['version']})", b["review_rate"])
    promised = "; ".join(
        f"{b['jurisdiction']} pack {b['version']}: backtest review rate {_pct(b['review_rate'])}"
        for b in backtests
    )
    summary = (
        f"{n:,} decisions: {totals['classified']:,} classified, {totals['needs_review']:,} needed "
        f"review, {totals['blocked']:,} blocked. Review rate {_pct(rate)}"
        + (f" ({promised})." if promised else " (no active pack with a backtest).")
    )
    return Section(
        "outcomes",
        "Outcome mix and review rate",
        summary,
        charts=[
            charts.stacked_columns(
                "Decisions per day by outcome",
                summary,
                labels,
                [(OUTCOME_LABELS[k], f"s-{k}", [d[k] for d in mix]) for k in OUTCOME_LABELS],
            ),
            charts.lines(
                "Review rate per day",
                f"Review rate {_pct(rate)} over the period.",
                labels,
                [("Review rate", "s-rate", [d["review_rate"] for d in mix])],
                share=True,
                reference=reference,
            ),
        ],
        table={
            "head": ["Day", "Classified", "Needs review", "Blocked", "Review rate"],
            "rows": [
                [
                    d["day"].isoformat(),
                    d["classified"],
                    d["needs_review"],
                    d["blocked"],
                    _pct(d["review_rate"]),
                ]
                for d in mix
            ],
        },
        extra={"review_rate": rate, "totals": totals},
    )


def precision_section(p: dict) -> Section:
    spots = p["spot_checks"]
    summary = (
        f"Brokers kept {p['kept']:,} of {p['n']:,} machine-selected codes they checked "
        f"({_pct(p['precision'])}). Spot checks of automatic codes: "
        f"{spots['confirmed']} confirmed, "
        f"{spots['corrected']} corrected, {spots['pending']} pending "
        f"(precision {_pct(spots['precision'])})."
    )
    rows = [(OUTCOME_LABELS.get(r["key"], r["key"]), r) for r in p["by_outcome"]]
    rows += [(SOURCE_LABELS.get(r["key"], r["key"]), r) for r in p["by_source"]]
    return Section(
        "precision",
        "Precision of automation",
        summary,
        charts=[
            charts.bars(
                "Kept by outcome",
                summary,
                [(OUTCOME_LABELS.get(r["key"], r["key"]), r["precision"]) for r in p["by_outcome"]],
                share=True,
            ),
            charts.bars(
                "Kept by source of the winning evidence",
                summary,
                [(SOURCE_LABELS.get(r["key"], r["key"]), r["precision"]) for r in p["by_source"]],
                share=True,
            ),
        ],
        table={
            "head": ["Group", "Checked", "Kept", "Precision"],
            "rows": [[label, r["n"], r["kept"], _pct(r["precision"])] for label, r in rows]
            + [
                [
                    "Spot checks",
                    spots["confirmed"] + spots["corrected"],
                    spots["confirmed"],
                    _pct(spots["precision"]),
                ]
            ],
        },
        extra=p,
    )


def override_section(o: dict, base: str) -> Section:
    worst = o["rules"][0] if o["rules"] else None
    summary = (
        f"Most corrected rule: {worst['key']}, overridden {worst['moved']} of {worst['n']} times "
        f"({_pct(worst['rate'])})."
        if worst
        else "No rule's codes were overridden in the period."
    )
    if o["to_codes"]:
        top = o["to_codes"][0]
        summary += f" Brokers moved to {top['code']} most often ({top['n']} times)."
    rows = [
        [
            f"Rule {r['key']}",
            r["n"],
            r["moved"],
            _pct(r["rate"]),
            f"{base}?queue=decided&rule={r['key']}",
        ]
        for r in o["rules"]
    ] + [
        [
            f"Pack {r['key']}",
            r["n"],
            r["moved"],
            _pct(r["rate"]),
            f"{base}?queue=decided&pack={r['key']}",
        ]
        for r in o["packs"]
    ]
    return Section(
        "overrides",
        "Override rate per rule and pack version",
        summary,
        charts=[
            charts.bars(
                "Override rate per rule",
                summary,
                [(r["key"], r["rate"]) for r in o["rules"]],
                share=True,
                cls="bar-warn",
            ),
            charts.bars(
                "Codes brokers move to", summary, [(r["code"], r["n"]) for r in o["to_codes"]]
            ),
        ],
        table={
            "head": ["Rule or pack", "Checked", "Overridden", "Rate"],
            "rows": rows,
            "linked": True,
        },
        extra=o,
    )


def calibration_section(c: dict) -> Section:
    summary = (
        f"Expected calibration error {_pct(c['ece'])} over {c['n']:,} finalized decisions."
        if c["n"]
        else "No finalized decisions in the period to measure calibration on."
    )
    return Section(
        "calibration",
        "Calibration (reliability diagram)",
        summary,
        charts=[charts.reliability("Accuracy by confidence", summary, c["bins"])],
        table={
            "head": ["Confidence", "Decisions", "Mean confidence", "Right at 6 digits"],
            "rows": [
                [b["label"], b["n"], _pct(b["confidence"]), _pct(b["accuracy"])] for b in c["bins"]
            ],
        },
        extra=c,
    )


def backlog_section(b: dict) -> Section:
    t, info = b["to_final"], b["info"]
    summary = (
        f"{b['open']:,} open items"
        + (f"; oldest {max(q['oldest'] for q in b['queues']):.1f} days" if b["queues"] else "")
        + f". Time from decision to final: median {_num(t['median'], ' h')}, "
        f"p90 {_num(t['p90'], ' h')} "
        f"({t['n']:,} finalized). {info['n']:,} waiting for information"
        + (f", the longest {info['oldest']:.1f} days." if info["n"] else ".")
    )
    stacks = [
        (label, f"s-age{i}", [q["buckets"][i] for q in b["queues"]])
        for i, label in enumerate(b["bucket_labels"])
    ]
    return Section(
        "backlog",
        "Backlog",
        summary,
        charts=[
            charts.stacked_columns(
                "Open items per queue by age", summary, [q["label"] for q in b["queues"]], stacks
            )
        ],
        table={
            "head": ["Queue", "Open", "Oldest (days)", "Median age (days)", *b["bucket_labels"]],
            "rows": [
                [q["label"], q["n"], f"{q['oldest']:.1f}", f"{q['median']:.1f}", *q["buckets"]]
                for q in b["queues"]
            ],
        },
        extra=b,
    )


def throughput_section(t: dict, days: int) -> Section:
    summary = (
        f"{t['decisions_total']:,} decisions ({t['decisions_total'] / days:,.1f} a day); "
        f"{t['actions_total']:,} broker actions by {len(t['people'])} people"
        + (
            f", {t['people'][0]['name']} most ({t['people'][0]['per_day']:.1f} a day)."
            if t["people"]
            else "."
        )
    )
    return Section(
        "throughput",
        "Throughput",
        summary,
        charts=[
            charts.lines(
                "Decisions per day",
                summary,
                [_day(d["day"]) for d in t["decisions"]],
                [("Decisions", "s-total", [d["n"] for d in t["decisions"]])],
            ),
            charts.bars(
                "Broker actions per person per day",
                summary,
                [(p["name"], p["per_day"]) for p in t["people"]],
            ),
        ],
        table={
            "head": ["Person", "Actions", "Days active", "Per day"],
            "rows": [
                [p["name"], p["total"], p["active_days"], f"{p['per_day']:.1f}"]
                for p in t["people"]
            ],
        },
        extra=t,
    )


def duty_section(d: dict, decision_url) -> Section:
    summary = (
        f"Final codes change the estimated duty by {d['total']:+,.2f} against the declared codes "
        f"over {d['n']:,} decisions"
        + (f" ({d['unknown']} not computable)." if d["unknown"] else ".")
    )
    return Section(
        "duty",
        "Duty exposure: declared against final codes",
        summary,
        charts=[
            charts.bars(
                "Largest differences",
                summary,
                [
                    (f"{r['declared_code']} → {r['final_code']}", abs(float(r["difference"])))
                    for r in d["largest"]
                ],
                cls="bar-warn",
            )
        ],
        table={
            "head": ["Decision", "Declared", "Final", "Declared duty", "Final duty", "Difference"],
            "rows": [
                [
                    r["decision_id"],
                    r["declared_code"],
                    r["final_code"],
                    r["declared"],
                    r["final"],
                    f"{r['difference']:+,.2f}",
                    decision_url(r["decision_id"]),
                ]
                for r in d["largest"]
            ],
            "linked": True,
        },
        extra=d,
    )


def build(
    tenant, period: selectors.Period, *, links: dict, full: bool = True, user=None
) -> list[Section]:
    """Every section of the dashboard for ``period``; a broker's own view (``full=False``)
    has the backlog of the items they hold and their own throughput.

    Read in one snapshot (``REPEATABLE READ``), so that the tallies and the rows found by rank
    from them agree, and every figure describes the same moment."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # the transaction's first statement
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with selectors.summed():
            sections = _sections(tenant, period, links=links, full=full, user=user)
    for section in sections:
        for i, chart in enumerate(section.charts):
            chart.key = f"chart-{section.key}-{i}"
    return sections


def _sections(tenant, period, *, links, full, user) -> list[Section]:
    mix = selectors.outcome_mix(tenant, period)
    days = len(period.days)
    if not full:
        return [
            backlog_section(selectors.backlog(tenant, period, assignee=user)),
            throughput_section(selectors.throughput(tenant, period, mix, actor=user), days),
        ]
    return [
        outcome_section(mix, selectors.backtest_review_rates(tenant, period.jurisdiction)),
        precision_section(selectors.precision(tenant, period)),
        override_section(selectors.overrides(tenant, period), links["review"]),
        calibration_section(selectors.calibration(tenant, period)),
        backlog_section(selectors.backlog(tenant, period)),
        throughput_section(selectors.throughput(tenant, period, mix), days),
        duty_section(selectors.duty_exposure(tenant, period), links["decision"]),
    ]
