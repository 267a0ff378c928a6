"""The export's terminal table, on the committed example manifest."""

from sketch_edge.export.table import TABLE_HEADER, agreement_cell, table_rows
from sketch_edge.manifest import Manifest, Parity
from tests.helpers import EXAMPLES


def test_one_row_per_artifact_with_a_cell_per_column():
    manifest = Manifest.load(EXAMPLES / "manifest.json")
    rows = table_rows(manifest)
    assert [row[0] for row in rows] == [a.name for a in manifest.artifacts]
    assert all(len(row) == len(TABLE_HEADER) for row in rows)
    assert all(row[1] == a.status for row, a in zip(rows, manifest.artifacts, strict=True))


def test_the_agreement_cell_shows_the_clear_drawings_agreement_when_near_ties_were_left_out():
    plain = Parity(top1_agreement=0.99, max_abs_diff=0.01, samples=100, flip_margins=(0.5,), noise=0.01, near_ties=0)
    assert agreement_cell(plain) == "0.9900" and agreement_cell(None) == ""
    ties = Parity(top1_agreement=0.97, max_abs_diff=0.05, samples=100, flip_margins=(0.01, 0.02, 0.5), noise=0.02, near_ties=10)
    assert agreement_cell(ties) == "0.9700 (0.9889 w/o 10 ties)"  # 1 clear flip of 90 clear drawings
