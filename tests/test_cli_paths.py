"""No command writes where it reads: an output that holds, equals or lies inside an input is refused before any work
(issue "nothing lost"): a distilled student over its teacher, a page built over the artifacts it serves."""

import pytest

from sketch_edge.cli import COMMANDS, build_parser, main, refuse_overlaps
from sketch_edge.errors import OutputError


def test_every_command_says_what_it_reads_and_writes():
    for command in COMMANDS:
        assert callable(getattr(command, "paths", None)), command.NAME


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "{d}", "--out", "{d}"], "overlaps --data"),
        (["train", "--teacher", "{a}", "--out", "{a}"], "overlaps --teacher"),
        (["train", "--teacher", "{b}", "--teacher", "{a}", "--out", "{a}/student"], "overlaps --teacher 2"),
        (["data", "--data", "{d}", "--out", "{d}/samples"], "overlaps --data"),
        (["tune", "--space", "{a}/space.json", "--out", "{a}"], "overlaps --space"),
        (["export", "--model", "{a}/model.keras", "--data", "{d}", "--artifacts", "{a}"], "overlaps --model"),
        (["bench", "--model", "{a}/m.onnx", "--data", "{d}", "--artifacts", "{d}/out"], "overlaps --data"),
        (["bench", "--artifacts", "{a}", "--baseline", "{a}/bench/results.json"], "overlaps --baseline"),
        (["compare", "{a}", "{b}", "--out", "{b}/bench/compare"], "overlaps ARTIFACTS 2"),
        (["web", "--artifacts", "{a}", "--out", "{a}"], "overlaps ARTIFACTS's export folder"),
    ],
)
def test_an_output_over_an_input_is_refused_before_any_work(tmp_path, capsys, argv, message):
    folders = {"a": tmp_path / "a", "b": tmp_path / "b", "d": tmp_path / "d"}
    for folder in folders.values():
        folder.mkdir()
    assert main([arg.format(**folders) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "d"] and not any(tmp_path.glob("*/*"))  # nothing written


@pytest.mark.parametrize(
    "argv",
    [
        ["web", "--artifacts", "{a}"],  # the page's default folder, ARTIFACTS/web, is beside export/, not over it
        ["bench", "--artifacts", "{a}", "--baseline", "{b}/bench/results.json"],
        ["train", "--teacher", "{a}", "--out", "{b}"],
        ["export", "--artifacts", "{a}"],  # export in place: the stage's own folder
    ],
)
def test_apart_outputs_pass(tmp_path, argv):
    args = build_parser().parse_args([arg.format(a=tmp_path / "a", b=tmp_path / "b") for arg in argv])
    refuse_overlaps(args.paths(args))


def test_a_symlinked_output_is_the_folder_it_points_to(tmp_path):
    (tmp_path / "teacher").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "teacher")
    args = build_parser().parse_args(["train", "--teacher", str(tmp_path / "teacher"), "--out", str(tmp_path / "link")])
    with pytest.raises(OutputError, match="overlaps --teacher"):
        refuse_overlaps(args.paths(args))
