import gzip
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from sketch_edge.data import load_source
from sketch_edge.data.drawing import to_stroke3
from sketch_edge.errors import DataError
from tests.helpers import SQUARE, TRIANGLE, write_ndjson


@pytest.mark.parametrize("shape", [(20, 784), (20, 1, 784), (20, 28, 28)])
def test_numpy_bitmap_shapes(tmp_path, shape):
    rows = np.random.default_rng(1).integers(0, 256, size=(20, 784), dtype=np.uint8)
    np.save(tmp_path / "cat.npy", rows.reshape(shape))
    data = load_source(str(tmp_path))
    assert data.labels == ("cat",) and data.kinds == ("bitmap",)
    assert np.array_equal(data.bitmaps, rows.reshape(20, 28, 28))


def test_class_names_come_from_file_names_with_spaces(bitmap_folder):
    data = load_source(str(bitmap_folder), per_class=5)
    assert set(data.labels) == {"cat", "The Eiffel Tower"} and data.counts() == {n: 5 for n in data.labels}


def test_class_subset_in_the_order_asked(bitmap_folder):
    data = load_source(str(bitmap_folder), classes=["The Eiffel Tower", "cat"])
    assert data.labels == ("The Eiffel Tower", "cat")


def test_unknown_class_suggests_the_nearest(bitmap_folder):
    with pytest.raises(DataError, match="did you mean 'The Eiffel Tower'"):
        load_source(str(bitmap_folder), classes=["The Eifel Tower"])


@pytest.mark.parametrize(
    "write, problem",
    [
        (lambda p: np.save(p, np.zeros((5, 783), np.uint8)), r"shape \(N, 784\)"),
        (lambda p: np.save(p, np.zeros((5, 784), np.float32)), "must be uint8"),
        (lambda p: np.save(p, np.array([{"a": 1}], dtype=object)), "not a readable .npy"),
        (lambda p: p.write_bytes(b"not numpy at all"), "not a readable .npy"),
    ],
)
def test_bad_npy_files(tmp_path, write, problem):
    write(tmp_path / "cat.npy")
    with pytest.raises(DataError, match=problem) as err:
        load_source(str(tmp_path))
    assert str(tmp_path / "cat.npy") in str(err.value)


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "cat.npy", np.zeros((50, 784), np.uint8))
    full = (tmp_path / "cat.npy").read_bytes()
    (tmp_path / "cat.npy").write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match="cat.npy: not a readable .npy"):
        load_source(str(tmp_path))


def test_simplified_ndjson_gives_both_input_kinds(tmp_path):
    write_ndjson(tmp_path / "square.ndjson", [SQUARE] * 4)
    write_ndjson(tmp_path / "triangle.ndjson", [TRIANGLE] * 3)
    data = load_source(str(tmp_path))
    assert data.kinds == ("bitmap", "strokes") and data.description["format"] == "simplified ndjson"
    assert data.counts() == {"square": 4, "triangle": 3}
    assert data.bitmaps.shape == (7, 28, 28) and data.features("strokes").shape[0] == 7


def test_gzipped_raw_ndjson_is_simplified(tmp_path):
    raw = [[[10.5, 20.5, 400.0], [30.0, 90.0, 60.0], [0, 10, 20]]]
    with gzip.open(tmp_path / "zigzag.ndjson.gz", "wt") as f:
        f.write(json.dumps({"word": "zigzag", "drawing": raw}) + "\n")
    data = load_source(str(tmp_path))
    assert data.description["format"] == "raw ndjson"
    ((xs, ys),) = data.drawings[0]
    assert min(xs) == 0 and max(xs) == 255 and max(ys) <= 255


def test_recognized_only(tmp_path):
    write_ndjson(tmp_path / "square.ndjson", [SQUARE] * 5, recognized=[True, False, True, False, True])
    data = load_source(str(tmp_path), recognized_only=True)
    assert len(data) == 3 and data.description["skipped"] == {"not recognized": 2}


def test_malformed_line_names_file_and_line(tmp_path):
    path = write_ndjson(tmp_path / "square.ndjson", [SQUARE] * 3)
    path.write_text(path.read_text() + "{not json\n" + json.dumps({"drawing": SQUARE}) + "\n")
    with pytest.raises(DataError, match=r"square.ndjson:4: malformed JSON"):
        load_source(str(tmp_path))
    data = load_source(str(tmp_path), skip_bad_lines=True)
    assert len(data) == 4 and data.description["skipped"] == {"malformed line": 1}


def test_line_without_drawing(tmp_path):
    (tmp_path / "square.ndjson").write_text(json.dumps({"word": "square"}) + "\n")
    with pytest.raises(DataError, match=r"square.ndjson:1: .*'drawing'"):
        load_source(str(tmp_path))


def test_empty_class(tmp_path):
    write_ndjson(tmp_path / "square.ndjson", [SQUARE] * 3)
    (tmp_path / "empty.ndjson").write_text("\n")
    with pytest.raises(DataError, match=r"empty.ndjson: no drawings left for class 'empty'"):
        load_source(str(tmp_path))


def _write_sketchrnn(path, sketches_by_split):
    arrays = {
        k: np.array(v + [None], dtype=object)[:-1] for k, v in sketches_by_split.items()
    }  # ragged object arrays, as sketch-rnn stores them
    np.savez(path, **arrays)


def test_sketchrnn_npz(tmp_path):
    s3 = to_stroke3(SQUARE + TRIANGLE).astype(np.int16)
    _write_sketchrnn(tmp_path / "shapes.npz", {"train": [s3, s3[:4]], "valid": [s3], "test": [s3]})
    data = load_source(str(tmp_path))
    assert len(data) == 4 and data.description["format"] == "sketch-rnn npz"
    assert data.drawings[0] == SQUARE + TRIANGLE


def test_sketchrnn_npz_never_unpickles_anything_but_arrays(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        with z.open("train.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
            pickle.dump(np.array([Evil()], dtype=object), f)
    with pytest.raises(DataError, match=r"evil.npz\[train\]: not a sketch-rnn array \(refusing to load builtins.print\)"):
        load_source(str(tmp_path))


def test_corrupt_npz(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataError, match="x.npz: not a readable .npz"):
        load_source(str(tmp_path))


@pytest.mark.parametrize(
    "setup, problem",
    [
        (lambda p: None, "no QuickDraw files here"),
        (lambda p: (p / "readme.txt").write_text("hi"), "no QuickDraw files here"),
        (lambda p: (np.save(p / "a.npy", np.zeros((3, 784), np.uint8)), write_ndjson(p / "b.ndjson", [SQUARE])), "mixes formats"),
    ],
)
def test_bad_folders(tmp_path, setup, problem):
    setup(tmp_path)
    with pytest.raises(DataError, match=problem):
        load_source(str(tmp_path))


def test_missing_folder_and_unknown_source(tmp_path):
    with pytest.raises(DataError, match="unknown data source"):
        load_source(str(tmp_path / "nope"))


def test_corrupt_gzip_is_one_line_even_when_skipping_bad_lines(tmp_path):
    lines = "".join(json.dumps({"drawing": SQUARE}) + "\n" for _ in range(3000)).encode()
    packed = bytearray(gzip.compress(lines))
    packed[len(packed) // 2 : len(packed) // 2 + 8] = b"\xff" * 8  # bytes flipped mid-stream
    (tmp_path / "cat.ndjson.gz").write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"cat.ndjson.gz(:\d+)?: (cannot read|malformed JSON)"):  # garbage may inflate first
        load_source(str(tmp_path))
    with pytest.raises(DataError, match=r"cat.ndjson.gz(:\d+)?: cannot read \("):
        load_source(str(tmp_path), skip_bad_lines=True)


def test_json_nested_too_deep_is_a_malformed_line(tmp_path):
    (tmp_path / "cat.ndjson").write_text(json.dumps({"drawing": SQUARE}) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(DataError, match="cat.ndjson:2: malformed JSON"):
        load_source(str(tmp_path))
    assert len(load_source(str(tmp_path), skip_bad_lines=True)) == 1


def test_an_endless_gzipped_line_is_refused_unread(tmp_path):
    import base64

    text = base64.b64encode(np.random.default_rng(0).bytes(7 << 20))  # 9.3 MB of one line that barely compresses
    with gzip.open(tmp_path / "cat.ndjson.gz", "wb") as out:
        out.write(text)
    with pytest.raises(DataError, match="cat.ndjson.gz:1: the line is longer than 8 MB"):
        load_source(str(tmp_path))


def test_a_gzip_bomb_of_empty_lines_is_refused(tmp_path):
    with gzip.open(tmp_path / "cat.ndjson.gz", "wb") as out:
        for _ in range(8):
            out.write(b"\n" * (1 << 20))  # 8 million empty lines in about 8 kB
    with pytest.raises(DataError, match="cat.ndjson.gz: inflates more than 20x its size; refusing a likely decompression bomb"):
        load_source(str(tmp_path), skip_bad_lines=True)


def test_an_npz_decompression_bomb_is_refused_before_inflating(tmp_path):
    with zipfile.ZipFile(tmp_path / "cat.npz", "w", zipfile.ZIP_DEFLATED) as archive, archive.open("train.npy", "w") as member:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (30 << 20,)})
        member.write(header.getvalue())
        for _ in range(120):
            member.write(bytes(1 << 20))  # 120 MB of zeros, about 120 kB compressed
    assert (tmp_path / "cat.npz").stat().st_size < 1 << 20
    with pytest.raises(DataError, match=r"cat.npz\[train\]: would inflate .* refusing a likely decompression bomb"):
        load_source(str(tmp_path))


def test_two_files_of_one_class_are_refused_not_one_dropped(tmp_path):
    write_ndjson(tmp_path / "cat.ndjson", [SQUARE])
    with gzip.open(tmp_path / "cat.ndjson.gz", "wt") as out:
        out.write(json.dumps({"word": "cat", "drawing": TRIANGLE}) + "\n")
    with pytest.raises(DataError, match=r"two files for the class cat \(cat.ndjson, cat.ndjson.gz\); keep one"):
        load_source(str(tmp_path))


@pytest.mark.parametrize("name", ["ca\tt", "cat\x1b]0;x\x07", "cat\r"])
def test_a_class_name_with_a_control_character_is_refused(tmp_path, name):
    np.save(tmp_path / "dog.npy", np.zeros((3, 784), np.uint8))
    np.save(tmp_path / f"{name}.npy", np.zeros((3, 784), np.uint8))
    with pytest.raises(DataError, match="its class name holds a control character; rename the file") as error:
        load_source(str(tmp_path))
    assert "\x1b" not in str(error.value) and "\t" not in str(error.value)  # the message shows escapes, not the characters
