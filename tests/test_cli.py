"""The command line as a user meets it: one-line errors with exit status 2, no tracebacks."""

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from sketch_edge.cli import main
from tests.helpers import copy_artifacts


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sketch_edge", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_data_summary_json_and_sample_grid(tmp_path, capsys):
    assert main(["data", "--per-class", "4", "--classes", "circle,smiley face", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "synthetic" and summary["per_class"] == {"circle": 4, "smiley face": 4}
    assert summary["input_kinds"] == ["bitmap", "strokes"]
    assert (tmp_path / "data_samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_models_lists_the_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "cnn-seed" in out and "cnn-bn:" in out and "edge-cnn (default)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "--data", "/no/such/folder"], "/no/such/folder: unknown data source"),
        (["data", "--classes", "circel"], "unknown class 'circel' (did you mean 'circle'?)"),
        (["train", "--model", "resnet"], "unknown model 'resnet'"),
        (["export", "--recipes", "onnx-int4"], "unknown export recipe 'onnx-int4'"),
        (["export", "--gate", "fp8:1"], "--gate 'fp8:1': expected PRECISION:MIN_AGREEMENT"),
        (["export", "--artifacts", "/no/such/artifacts"], "/no/such/artifacts/model.keras: no trained model here"),
        (["bench", "--artifacts", "/no/such/artifacts"], "/no/such/artifacts/export/manifest.json: no manifest"),
        (["bench", "--data", "/no/such/images"], "--data goes with --model FILE"),
        (["bench", "--model", "/no/m.onnx"], "/no/m.onnx: --model needs --data FOLDER"),
        (["bench", "--model", "/no/m.onnx", "--data", "/no/images"], "/no/m.onnx: no such file"),
        (["bench", "--model", "/no/m.keras", "--data", "/no/images"], "a Keras model is exported first"),
        (["train", "--model", "edge-cnn[width=-2]"], "width must be at least 1"),
        (["tune", "--target", "keras"], "unknown --target 'keras'"),
        (["tune", "--space", "/no/such/space.json"], "/no/such/space.json: cannot read the search space"),
        (["tune", "--data", "/no/such/folder"], "/no/such/folder: unknown data source"),
        (["train", "--temperature", "2"], "--temperature, --mix and --consistent set how a student learns from its teachers"),
        (["train", "--teacher", "/no/such/teacher", "--mix", "1.5"], "--mix 1.5: must be a fraction in (0, 1]"),
        (["train", "--teacher", "/no/such/teacher", "--temperature", "nan"], "--temperature nan: must be a number in [0.1, 100]"),
        (["train", "--teacher", "/no/such/teacher", "--temperature", "1e-310"], "--temperature 1e-310: must be a number in"),
        (["train", "--teacher", "/no/such/teacher", "--temperature", "1e300"], "--temperature 1e+300: must be a number in"),
        (["train", "--teacher", "/no/such/teacher"], "teacher /no/such/teacher: no such folder"),
        (["tune", "--teacher", "/no/such/teacher"], "teacher /no/such/teacher: no such folder"),
    ],
)
def test_user_errors_are_one_line_with_status_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


@pytest.mark.slow
def test_bench_gates_exit_3_naming_the_cell_after_writing_the_report(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "artifacts")
    common = ["bench", "--artifacts", str(root), "--recipes", "onnx-int8", "--runtimes", "onnxruntime", "--threads", "1", "--batch", "1"]
    passed = run_cli(*common, "--quick", "--min-top1", "0.3", "--max-p50-us", "onnx-int8=1000000")
    assert passed.returncode == 0, passed.stderr
    assert "I0000" not in passed.stderr + passed.stdout and "peaks: 1 thread(s)" in passed.stdout
    assert passed.stderr.splitlines() == ["bench 1/1 onnx-int8/onnxruntime/t1/b1: ok"]  # progress, a line a cell
    failed = run_cli(*common, "--quick", "--no-profile", "--max-p50-us", "onnx-int8=0.5")
    assert failed.returncode == 3 and (root / "bench" / "report.md").is_file()
    progress, line = failed.stderr.strip().splitlines()
    assert re.fullmatch(r"sketch-edge: error: 1 gate\(s\) failed: onnx-int8/onnxruntime/t1/b1: p50 [\d.]+ us > 0.5 us", line), line


def test_hostile_labels_are_printed_as_text(tmp_path):
    from tests.helpers import linear_softmax_onnx

    pytest.importorskip("onnx")
    weights = np.zeros((784, 2), np.float32)
    weights[:392, 0] = 0.002
    labels = ["\x1b]0;pwned\x07\x1b[31mred", "[bold]x[/bold]"]
    model = linear_softmax_onnx(tmp_path / "m.onnx", weights, {"labels": labels, "model": "\x1b[2Jwipe"})
    bitmaps = np.zeros((1, 28, 28), np.uint8)
    bitmaps[0, 2:8, 2:26] = 255
    np.save(tmp_path / "b.npy", bitmaps)
    done = run_cli("predict", str(model), str(tmp_path / "b.npy"), "--top", "2")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\\x1b]0;pwned\\x07" in done.stdout and "[bold]x[/bold]" in done.stdout
    assert "\\x1b[2Jwipe" in done.stdout


@pytest.mark.parametrize("name", ["[/]odd", "\x1b[31mred"])
def test_paths_with_markup_or_escapes_are_one_line(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir(parents=True)
    result = run_cli("data", "--data", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "\x1b" not in result.stderr
    shown = str(folder).replace("\x1b", "\\x1b")
    expected = f"sketch-edge: error: {shown}: no QuickDraw files here (expected <class>.npy, <class>.ndjson[.gz] or <class>.npz)"
    assert result.stderr.strip().splitlines() == [expected]


def test_train_refuses_an_unwritable_out_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    started = time.monotonic()
    result = run_cli("train", "--out", str(blocker / "artifacts"), "--epochs", "50")
    assert result.returncode == 2 and "cannot write here" in result.stderr and "Traceback" not in result.stderr
    assert not (blocker.parent / "artifacts").exists() and time.monotonic() - started < 60


@pytest.mark.slow
def test_a_student_of_the_shared_model_trains_and_a_teacher_of_other_drawings_writes_nothing(exported, tmp_path):
    from tests.helpers import TINY_CLASSES

    teacher = str(exported[0])
    common = ["train", "--classes", ",".join(TINY_CLASSES), "--seed", "2", "--model", "cnn-seed", "--teacher", teacher]
    refused = run_cli(*common, "--per-class", "150", "--out", str(tmp_path / "refused"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        f"sketch-edge: error: teacher {teacher}: trained on another split (per_class 200, the student's 150)"
    ]
    assert not (tmp_path / "refused" / "model.keras").exists() and not list((tmp_path / "refused").glob("*.npz"))
    taught = run_cli(*common, "--per-class", "200", "--epochs", "1", "--steps-per-epoch", "2", "--mix", "0.8", "--out", str(tmp_path / "s"))
    assert taught.returncode == 0, taught.stderr
    assert "taught by 1 teacher(s) at T=2, mix 0.8" in taught.stdout
    report = json.loads((tmp_path / "s" / "train_report.json").read_text())
    assert report["distillation"]["teachers"][0]["path"] == teacher and report["distillation"]["mix"] == 0.8


@pytest.mark.slow
@pytest.mark.parametrize("content", ["random", "lambda"])
def test_export_of_a_model_keras_that_is_not_one_is_one_line(exported, tmp_path, content):
    import os

    root = copy_artifacts(exported[0], tmp_path / "artifacts", "export")
    if content == "random":
        (root / "model.keras").write_bytes(os.urandom(5000))
        expected = "model.keras: not a .keras model (not a zip archive)"
    else:
        script = (
            "import keras; i = keras.Input((28, 28, 1), name='image'); "
            f"keras.Model(i, keras.layers.Lambda(lambda x: x * 2)(i)).save({str(root / 'model.keras')!r})"
        )
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=120)
        expected = "model.keras: Keras cannot load it safely (Requested the deserialization of a `Lambda` layer"
    result = run_cli("export", "--artifacts", str(root))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr.strip().splitlines()[-1] and len(result.stderr.strip().splitlines()) == 1


def test_corrupt_file_error_names_the_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "cat.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(data / "dog.npy", np.zeros((5, 784), np.uint8))
    result = run_cli("data", "--data", str(data), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and f"{data / 'cat.npy'}: not a readable .npy file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_numbers_are_refused_by_the_parser():
    result = run_cli("train", "--epochs", "0")
    assert result.returncode == 2 and "argument --epochs: must be from 1 to" in result.stderr
    for limit, message in (("onnx-int8", "expected RECIPE=MICROSECONDS"), ("onnx-int8=-3", "argument --max-p50-us: must be from 0.001")):
        result = run_cli("bench", "--max-p50-us", limit)
        assert result.returncode == 2 and message in result.stderr
    for budget in ("0", "nan", "-1", "inf", "ten"):
        result = run_cli("tune", "--budget-minutes", budget)
        assert result.returncode == 2 and "argument --budget-minutes:" in result.stderr, budget


@pytest.fixture
def linear_model(tmp_path):
    from tests.helpers import linear_softmax_onnx

    pytest.importorskip("onnx")
    weights = np.zeros((784, 2), np.float32)
    weights[:392, 0] = weights[392:, 1] = 0.002  # ink in the top half -> "top", the bottom half -> "bottom"
    return linear_softmax_onnx(tmp_path / "m.onnx", weights, {"labels": ["top", "bottom"], "model": "halves"})


def test_predict_npy_ndjson_and_image_files(tmp_path, linear_model):
    from PIL import Image

    from tests.helpers import SQUARE, write_ndjson

    bitmaps = np.zeros((3, 28, 28), np.uint8)
    bitmaps[:, 2:8, 2:26] = bitmaps[:, 2:26, 13:15] = 255  # a T: most ink at the top, even once cropped
    bitmaps[1] = bitmaps[1][::-1]
    np.save(tmp_path / "bitmaps.npy", bitmaps)
    upside_down_t = [[[0, 255], [255, 255]], [[128, 128], [0, 255]]]
    write_ndjson(tmp_path / "drawings.ndjson", [SQUARE, upside_down_t])
    Image.fromarray(255 - np.kron(bitmaps[1], np.ones((5, 5), np.uint8))).save(tmp_path / "bottom.png")

    done = run_cli(
        "predict",
        str(linear_model),
        str(tmp_path / "bitmaps.npy"),
        str(tmp_path / "drawings.ndjson"),
        str(tmp_path / "bottom.png"),
        "--json",
        "--top",
        "1",
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["input"].rsplit("/", 1)[-1] for row in rows] == [
        "bitmaps.npy:1",
        "bitmaps.npy:2",
        "bitmaps.npy:3",
        "drawings.ndjson:1",
        "drawings.ndjson:2",
        "bottom.png",
    ]
    assert [row["top"][0]["label"] for row in rows] == ["top", "bottom", "top", rows[3]["top"][0]["label"], "bottom", "bottom"]
    assert all(len(row["top"]) == 1 and 0.5 <= row["top"][0]["probability"] <= 1 for row in rows)

    table = run_cli("predict", str(linear_model), "bitmaps.npy", cwd=tmp_path)
    assert table.returncode == 0 and "halves" in table.stdout and "bitmaps.npy:3" in table.stdout and "top" in table.stdout

    openvino = run_cli("predict", str(linear_model), str(tmp_path / "bitmaps.npy"), "--json", "--top", "1", "--runtime", "openvino")
    assert openvino.returncode == 0, openvino.stderr
    for line, row in zip(openvino.stdout.splitlines(), rows[:3], strict=True):  # the same answers, up to float rounding
        (top,) = json.loads(line)["top"]
        assert top["label"] == row["top"][0]["label"] and top["probability"] == pytest.approx(row["top"][0]["probability"], abs=1e-4)
    wrong = run_cli("predict", str(linear_model), str(tmp_path / "bitmaps.npy"), "--runtime", "litert")
    assert wrong.returncode == 2 and "litert does not run .onnx files (these do: onnxruntime, openvino)" in wrong.stderr


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda d: d / "absent.png", "absent.png: no such input file"),
        (lambda d: _write(d / "bad.ndjson", '{"drawing": [[[0, 1], [0, 1]]]}\n{not json\n'), "bad.ndjson:2: malformed JSON"),
        (lambda d: _write(d / "notes.png", "hello"), "notes.png: cannot decode it as an image"),
        (lambda d: np.save(d / "f.npy", np.zeros((2, 28, 28), np.float32)) or d / "f.npy", "f.npy: bitmaps must be uint8"),
    ],
)
def test_predict_bad_input_is_one_line(tmp_path, linear_model, make_input, message):
    done = run_cli("predict", str(linear_model), str(make_input(tmp_path)))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_predict_answers_every_good_input_around_a_bad_one_and_takes_a_single_bitmap(tmp_path, linear_model):
    np.save(tmp_path / "one.npy", np.zeros(784, np.uint8))  # one drawing saved flat, as a user saves it
    np.save(tmp_path / "square.npy", np.zeros((28, 28), np.uint8))
    _write(tmp_path / "notes.png", "hello")
    inputs = [str(tmp_path / n) for n in ("one.npy", "notes.png", "square.npy")]
    done = run_cli("predict", str(linear_model), *inputs, "--json")
    (error,) = done.stderr.strip().splitlines()
    assert done.returncode == 2 and error.startswith(f"sketch-edge: error: {inputs[1]}: cannot decode it as an image")
    assert [json.loads(line)["input"] for line in done.stdout.splitlines()] == [f"{inputs[0]}:1", f"{inputs[2]}:1"]
    keras = run_cli("predict", str(linear_model), inputs[0], "--runtime", "keras")
    assert keras.returncode == 2 and "invalid choice: 'keras'" in keras.stderr  # not offered: it runs no predictor file


def test_predict_with_a_stroke_model(tmp_path):
    """Drawings go through the sequence preprocessing; an image or a bitmap file is one line naming the model's input kind."""
    from sketch_edge.data.sequence import CHANNELS, STEPS
    from tests.helpers import SQUARE, TRIANGLE, linear_strokes_onnx, write_ndjson

    labels = ["a", "b", "c"]
    weights = np.random.default_rng(0).normal(0, 0.002, size=(STEPS * CHANNELS, 3)).astype(np.float32)
    model = linear_strokes_onnx(tmp_path / "strokes.onnx", weights, {"labels": labels, "input": {"kind": "strokes"}, "model": "lin"})
    write_ndjson(tmp_path / "drawings.ndjson", [SQUARE, TRIANGLE])
    done = run_cli("predict", str(model), str(tmp_path / "drawings.ndjson"), "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 2 and all(len(row["top"]) == 3 and {t["label"] for t in row["top"]} == set(labels) for row in rows)
    np.save(tmp_path / "bitmaps.npy", np.zeros((2, 28, 28), np.uint8))
    _write(tmp_path / "sketch.png", "not even an image")
    for name in ("sketch.png", "bitmaps.npy"):
        refused = run_cli("predict", str(model), str(tmp_path / name))
        assert refused.returncode == 2 and "this model reads strokes (input kind 'strokes')" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_predict_bad_model_is_one_line(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"garbage")
    done = run_cli("predict", str(tmp_path / "m.onnx"), str(tmp_path / "x.png"))
    assert done.returncode == 2 and "m.onnx: ONNX Runtime cannot load it" in done.stderr


def _write(path, text):
    path.write_text(text)
    return path


def test_a_name_list_is_each_name_once_and_bounded():
    import argparse

    from sketch_edge.cli.options import MAX_NAMES, names

    assert names("cortex-a55," * 1000 + "cortex-a76") == ["cortex-a55", "cortex-a76"]
    with pytest.raises(argparse.ArgumentTypeError, match=f"at most {MAX_NAMES:,}"):
        names(",".join(f"class{i}" for i in range(MAX_NAMES + 1)))


class _Stream:
    """A stderr stand-in that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_is_a_line_a_step_in_a_log_and_one_redrawn_bar_on_a_terminal(monkeypatch):
    from sketch_edge.cli.options import step_printer

    log = _Stream(tty=False)
    say = step_printer("export", log)
    for i in range(1, 4):
        say(i, 3, f"recipe-{i}: ok")
    assert log.text.splitlines() == [f"export {i}/3 recipe-{i}: ok" for i in range(1, 4)]

    monkeypatch.setenv("COLUMNS", "40")
    terminal = _Stream(tty=True)
    say = step_printer("bench", terminal)
    for i in range(1, 4):
        say(i, 3, "a-cell-with-a-very-long-name/litert/t1/b1: ok")
    assert terminal.text.count("\n") == 1 and terminal.text.endswith("\n")  # one line, ended when the stage is done
    drawn = [part.removesuffix("\x1b[K\n").removesuffix("\x1b[K") for part in terminal.text.split("\r") if part]
    assert len(drawn) == 3 and all(len(line) <= 39 for line in drawn) and drawn[-1].startswith("bench [" + "#" * 20 + "] 3/3")
