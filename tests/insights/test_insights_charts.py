"""The charts' SVG elements: written as the template wrote them, every value escaped."""

from insights import charts


def test_shapes_escape_labels_and_print_numbers_plainly():
    chart = charts.bars("Per rule", "summary", [('<b>"r1"</b> & co', 0.25), ("r2", 12.5)])
    svg = str(chart.shapes)
    assert "<b>" not in svg and "&lt;b&gt;&quot;r1&quot;&lt;/b&gt; &amp; co" in svg
    assert svg.count("<rect ") == 2 and svg.count("<text ") >= 4
    rect = {"x": 1234.5, "y": 0, "w": 10, "h": 2.0, "cls": "c", "tip": "t"}
    one = str(charts.Chart("t", "d", rects=[rect]).shapes)
    # No thousands separator, a point, ints and floats as the template printed them.
    assert one == '<rect x="1234.5" y="0" width="10" height="2.0" class="c"><title>t</title></rect>'
