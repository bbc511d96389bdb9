"""Charts as server-rendered SVG: coordinates computed here, the shapes' markup written by
``Chart.shapes`` (a few hundred elements: a string join, not a template loop per element) inside
``insights/_chart.html``.

Hand-written rather than a charting library: the page's CSP allows no inline script or style,
so client-side libraries (which style by script) and SVG libraries that embed a ``<style>``
element (pygal) would need exceptions; a few rectangles, polylines and labels with CSS classes
from ``static/insights/insights.css`` need none, and the numbers stay testable in Python.
"""

from dataclasses import dataclass, field

from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass
class Chart:
    """One SVG: shapes with CSS classes; ``title`` and ``desc`` give its accessible name."""

    title: str
    desc: str
    width: int = WIDTH
    height: int = HEIGHT
    rects: list = field(default_factory=list)  # {x, y, w, h, cls, tip}
    lines: list = field(default_factory=list)  # {points: "x,y x,y", cls, tip}
    dots: list = field(default_factory=list)  # {x, y, r, cls, tip}
    texts: list = field(default_factory=list)  # {x, y, text, cls, anchor}
    legend: list = field(default_factory=list)  # (label, cls)
    key: str = ""  # unique on the page: the element ids of its title and description

    @property
    def empty(self) -> bool:
        return not (self.rects or self.lines or self.dots)

    @property
    def shapes(self) -> SafeString:
        """The SVG elements: grid lines, bars, lines, dots, then labels (each value escaped as
        a template would)."""

        plain = localize(1234.5) == "1234.5"  # no grouping, a point: numbers print as str()

        def v(value) -> str:
            if plain and isinstance(value, int | float) and "e" not in str(value):
                return str(value)
            return escape(localize(value))

        out = [
            f'<polyline points="{v(ln["points"])}" class="{v(ln["cls"])}"/>'
            for ln in self.lines
            if ln["cls"] == "grid"
        ]
        out += [
            f'<rect x="{v(r["x"])}" y="{v(r["y"])}" width="{v(r["w"])}" height="{v(r["h"])}" '
            f'class="{v(r["cls"])}"><title>{v(r["tip"])}</title></rect>'
            for r in self.rects
        ]
        out += [
            f'<polyline points="{v(ln["points"])}" class="{v(ln["cls"])}">'
            + (f"<title>{v(ln['tip'])}</title>" if ln.get("tip") else "")
            + "</polyline>"
            for ln in self.lines
            if ln["cls"] != "grid"
        ]
        out += [
            f'<circle cx="{v(d["x"])}" cy="{v(d["y"])}" r="{v(d["r"])}" class="{v(d["cls"])}">'
            f"<title>{v(d['tip'])}</title></circle>"
            for d in self.dots
        ]
        out += [
            f'<text x="{v(t["x"])}" y="{v(t["y"])}" class="{v(t["cls"])}" '
            f'text-anchor="{v(t["anchor"])}">{v(t["text"])}</text>'
            for t in self.texts
        ]
        return mark_safe("".join(out))  # noqa: S308 (every value is escaped above)


def _r(value: float) -> float:
    return round(value, 1)


def _nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _y_axis(chart: Chart, top: float, *, share: bool) -> None:
    plot_h = chart.height - TOP - BOTTOM
    for i in range(5):
        value = top * i / 4
        y = _r(TOP + plot_h - plot_h * i / 4)
        label = f"{value:.0%}" if share else f"{value:g}"
        chart.lines.append({"points": f"{LEFT},{y} {chart.width - RIGHT},{y}", "cls": "grid"})
        chart.texts.append(
            {"x": LEFT - 4, "y": y + 4, "text": label, "cls": "axis", "anchor": "end"}
        )


def _x_labels(chart: Chart, labels: list[str], xs: list[float]) -> None:
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        chart.texts.append(
            {
                "x": _r(xs[i]),
                "y": chart.height - 8,
                "text": labels[i],
                "cls": "axis",
                "anchor": "middle",
            }
        )


def stacked_columns(
    title: str, desc: str, labels: list[str], stacks: list[tuple[str, str, list[float]]]
) -> Chart:
    """Columns per label, each stacked from ``stacks`` [(name, css class, values)]."""
    chart = Chart(title, desc, legend=[(name, cls) for name, cls, _ in stacks])
    totals = [sum(s[2][i] for s in stacks) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    _y_axis(chart, top, share=False)
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    xs = []
    for i, label in enumerate(labels):
        x = LEFT + slot * i
        xs.append(x + slot / 2)
        base = 0.0
        for name, cls, values in stacks:
            h = plot_h * values[i] / top
            if values[i]:
                chart.rects.append(
                    {
                        "x": _r(x + slot * 0.1),
                        "y": _r(TOP + plot_h - base - h),
                        "w": _r(slot * 0.8),
                        "h": _r(h),
                        "cls": cls,
                        "tip": f"{label}: {name} {values[i]:g}",
                    }
                )
            base += h
    _x_labels(chart, labels, xs)
    return chart


def lines(
    title: str,
    desc: str,
    labels: list[str],
    series: list[tuple[str, str, list[float | None]]],
    *,
    share: bool = False,
    reference: tuple[str, float] | None = None,
) -> Chart:
    """One polyline per series [(name, css class, values)]; None leaves a gap. ``reference``
    (name, value) draws a dashed horizontal line (e.g. the backtest's review rate)."""
    chart = Chart(title, desc, legend=[(name, cls) for name, cls, _ in series])
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = 1.0 if share else _nice_max(max([*values, reference[1] if reference else 0], default=0))
    _y_axis(chart, top, share=share)
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0
    xs = [LEFT + step * i if len(labels) > 1 else LEFT + plot_w / 2 for i in range(len(labels))]
    for name, cls, vs in series:
        run: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                if len(run) > 1:
                    chart.lines.append({"points": " ".join(run), "cls": cls})
                run = []
                continue
            y = _r(TOP + plot_h - plot_h * min(v, top) / top)
            run.append(f"{_r(xs[i])},{y}")
            chart.dots.append(
                {
                    "x": _r(xs[i]),
                    "y": y,
                    "r": 2.5,
                    "cls": cls,
                    "tip": f"{labels[i]}: {name} {v:.1%}"
                    if share
                    else f"{labels[i]}: {name} {v:g}",
                }
            )
        if len(run) > 1:
            chart.lines.append({"points": " ".join(run), "cls": cls})
    if reference is not None:
        y = _r(TOP + plot_h - plot_h * min(reference[1], top) / top)
        chart.lines.append(
            {
                "points": f"{LEFT},{y} {chart.width - RIGHT},{y}",
                "cls": "reference",
                "tip": f"{reference[0]}: {reference[1]:.1%}" if share else reference[0],
            }
        )
        chart.legend.append((reference[0], "reference"))
    _x_labels(chart, labels, xs)
    return chart


def bars(
    title: str,
    desc: str,
    rows: list[tuple[str, float]],
    *,
    share: bool = False,
    cls: str = "bar-plain",
) -> Chart:
    """Horizontal bars, one per (label, value), labels on the left."""
    row_h = 22
    chart = Chart(title, desc, height=TOP + BOTTOM + row_h * max(1, len(rows)))
    top = 1.0 if share else _nice_max(max((v for _, v in rows), default=0))
    left = 170
    plot_w = chart.width - left - RIGHT - 50
    for i, (label, value) in enumerate(rows):
        y = TOP + row_h * i
        w = plot_w * min(value, top) / top
        shown = f"{value:.0%}" if share else f"{value:,.4g}"
        chart.texts.append(
            {"x": left - 6, "y": y + 15, "text": label[:28], "cls": "axis", "anchor": "end"}
        )
        chart.rects.append(
            {
                "x": left,
                "y": y + 3,
                "w": _r(max(w, 1)),
                "h": row_h - 6,
                "cls": cls,
                "tip": f"{label}: {shown}",
            }
        )
        chart.texts.append(
            {"x": _r(left + w + 4), "y": y + 15, "text": shown, "cls": "value", "anchor": "start"}
        )
    return chart


def reliability(title: str, desc: str, bins: list[dict]) -> Chart:
    """A reliability diagram: accuracy per confidence bin (dots sized by count) beside the
    ideal diagonal; both axes 0–1."""
    chart = Chart(
        title,
        desc,
        width=360,
        height=300,
        legend=[("Finalized decisions", "observed"), ("Ideal", "reference")],
    )
    _y_axis(chart, 1.0, share=True)
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM

    def xy(conf, acc):
        return _r(LEFT + plot_w * conf), _r(TOP + plot_h - plot_h * acc)

    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    chart.lines.append({"points": f"{x0},{y0} {x1},{y1}", "cls": "reference", "tip": "Ideal"})
    most = max((b["n"] for b in bins), default=1) or 1
    run = []
    for b in bins:
        if not b["n"]:
            continue
        x, y = xy(b["confidence"], b["accuracy"])
        run.append(f"{x},{y}")
        chart.dots.append(
            {
                "x": x,
                "y": y,
                "r": _r(3 + 5 * (b["n"] / most) ** 0.5),
                "cls": "observed",
                "tip": f"{b['label']}: {b['accuracy']:.0%} right of {b['n']}",
            }
        )
    if len(run) > 1:
        chart.lines.append({"points": " ".join(run), "cls": "observed"})
    for i in range(0, 11, 2):
        x, _ = xy(i / 10, 0)
        chart.texts.append(
            {
                "x": x,
                "y": chart.height - 8,
                "text": f"{i / 10:.1f}",
                "cls": "axis",
                "anchor": "middle",
            }
        )
    return chart
