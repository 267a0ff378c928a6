"""reporting: tables fit the terminal by moving columns to a further table (each repeating the key columns)."""

from sketch_edge.reporting import WIDEST_CELL, column_groups, print_table

HEADER = ["recipe", "runtime", *(f"column {i}" for i in range(12))]
ROWS = [["tflite-mobile-int8", "onnxruntime", *("123456.7" for _ in range(12))] for _ in range(3)]


def _width(group: list[int]) -> int:
    return 1 + sum(min(max(len(HEADER[i]), *(len(r[i]) for r in ROWS)), WIDEST_CELL) + 3 for i in group)


def test_every_column_is_shown_once_after_the_keys_and_each_table_fits():
    for width in (60, 100, 200):
        groups = column_groups(HEADER, ROWS, width, keys=2)
        assert all(g[:2] == [0, 1] for g in groups)
        assert [i for g in groups for i in g[2:]] == list(range(2, len(HEADER)))
        assert all(_width(g) <= width for g in groups)
    assert len(column_groups(HEADER, ROWS, 100, keys=2)) > len(column_groups(HEADER, ROWS, 200, keys=2))


def test_a_terminal_of_100_columns_gets_no_line_longer(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    print_table(HEADER, ROWS, "title", keys=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines and max(len(line) for line in lines) <= 100
    tables = len(column_groups(HEADER, ROWS, 100, keys=2))
    assert tables > 1 and sum("tflite-mobile-int8" in line for line in lines) == 3 * tables  # never cut to "…"
