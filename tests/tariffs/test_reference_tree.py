"""A heading's lines, read from the reference in code order (its tree is in their paths)."""

from tariffs import reference


def _line(code: str, full_description: str) -> reference.Line:
    description = full_description.rsplit(" › ", 1)[-1]
    return reference.Line(code, 0, description, full_description, (), "", "", "", len(code) == 10)


def test_lines_under_a_prefix_come_in_code_order_with_the_prefix_itself():
    lines = [
        _line("7114", "Silversmiths' wares"),
        _line("7113200000", "Jewelry › Of base metal clad with precious metal"),
        _line("7113", "Jewelry"),
        _line("7113115000", "Jewelry › Of silver › Other"),
        _line("711311", "Jewelry › Of silver"),
        _line("7112", "Waste and scrap of precious metal"),
    ]
    data = reference.ReferenceData("US", "tree test", None, True, False, lines)
    ref = reference.Reference(data)
    assert [line.code for line in ref.lines_under("7113")] == [
        "7113",
        "711311",
        "7113115000",
        "7113200000",
    ]
    assert [line.code for line in ref.lines_under("711311")] == ["711311", "7113115000"]
    assert ref.lines_under("7115") == []
