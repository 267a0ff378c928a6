"""The image-folder reader: class order, the user's own split, what is skipped and what stops the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch_edge.data.image_folder import list_folder, load_picture, read_labels, read_split
from sketch_edge.errors import DataError


def _folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (20, 30), mode: str = "RGB") -> Path:
    for i, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for j in range(count):
            value = (40 * i + j) % 256
            Image.new(mode, size, value if mode == "L" else (value, 255 - value, 7)).save(root / name / f"{j:03d}.png")
    return root


def test_classes_are_the_sorted_folders_and_each_part_is_drawn_per_class(tmp_path: Path) -> None:
    root = _folder(tmp_path / "d", {"zebra": 30, "apple": 30, "mango": 30})
    listing = list_folder(root)
    assert listing.labels == ("apple", "mango", "zebra")
    split = read_split(listing, (16, 24), 3)
    assert split.kind == "image" and split.labels == listing.labels
    assert split.test_x.shape[1:] == (16, 24, 3) and split.test_x.dtype == np.uint8
    for part in (split.val_y, split.test_y):
        assert sorted(set(part.tolist())) == [0, 1, 2]  # every class in validation and test
    assert len(split.calibration) > 0


def test_the_split_is_seeded_and_its_parts_are_disjoint(tmp_path: Path) -> None:
    listing = list_folder(_folder(tmp_path / "d", {"a": 40, "b": 40}))
    one, two, other = read_split(listing, (8, 8), 1), read_split(listing, (8, 8), 1), read_split(listing, (8, 8), 1, seed=5)
    assert np.array_equal(one.test_positions, two.test_positions) and np.array_equal(one.test_x, two.test_x)
    assert not np.array_equal(one.test_positions, other.test_positions)
    for label in (0, 1):
        val, test = set(one.val_positions[one.val_y == label]), set(one.test_positions[one.test_y == label])
        assert not val & test


def test_a_labels_file_gives_the_class_order(tmp_path: Path) -> None:
    root = _folder(tmp_path / "d", {"a": 12, "b": 12})
    (tmp_path / "labels.txt").write_text("b\na\n")
    assert list_folder(root, read_labels(tmp_path / "labels.txt")).labels == ("b", "a")
    (tmp_path / "more.txt").write_text("b\na\nc\n")
    with pytest.raises(DataError, match="labels name 'c', which has no folder"):
        list_folder(root, read_labels(tmp_path / "more.txt"))
    (tmp_path / "fewer.txt").write_text("b\n")
    with pytest.raises(DataError, match="a class folder the labels file does not name"):
        list_folder(root, read_labels(tmp_path / "fewer.txt"))
    (tmp_path / "twice.txt").write_text("a\na\n")
    with pytest.raises(DataError, match="names 'a' twice"):
        read_labels(tmp_path / "twice.txt")


def test_harmless_strays_are_counted_and_skipped(tmp_path: Path) -> None:
    root = _folder(tmp_path / "d", {"a": 20, "b": 20})
    (root / ".DS_Store").write_bytes(b"x")
    (root / "README.md").write_text("notes")
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "a" / "broken.png").write_bytes(b"not a png at all")
    (root / "b" / ".hidden.png").write_bytes(b"x")
    listing = list_folder(root)
    assert listing.skipped == {"hidden files or folders": 2, "files beside the class folders": 1, "not image files": 1}
    split = read_split(listing, (8, 8), 3)
    assert split.source["skipped"].get("images that do not decode", 0) <= 1  # decoded only if the split picked it


def test_what_stops_the_run_is_one_line_naming_the_place(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        list_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        list_folder(tmp_path / "empty")
    root = _folder(tmp_path / "d", {"a": 12})
    (root / "b").mkdir()
    (root / "b" / "x.txt").write_text("no images")
    with pytest.raises(DataError, match=r"d/b: an empty class"):
        list_folder(root)


def test_a_class_whose_images_do_not_decode_stops_the_run(tmp_path: Path) -> None:
    root = _folder(tmp_path / "d", {"a": 12})
    (root / "b").mkdir()
    for i in range(12):
        (root / "b" / f"{i}.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="class 'b' has no .* images that decode"):
        read_split(list_folder(root), (8, 8), 3)


def test_the_users_own_split_is_kept(tmp_path: Path) -> None:
    for part, count in (("train", 15), ("test", 4)):
        _folder(tmp_path / "d" / part, {"a": count, "b": count})
    listing = list_folder(tmp_path / "d")
    assert listing.user_split
    split = read_split(listing, (8, 8), 3)
    assert len(split.test_y) == 8  # every test image, none drawn from train/
    assert len(split.val_y) == 2  # no val/: every tenth training image of each class
    _folder(tmp_path / "e" / "train", {"a": 5, "b": 5})
    _folder(tmp_path / "e" / "test", {"a": 5})
    with pytest.raises(DataError, match="class folders are not train/'s"):
        list_folder(tmp_path / "e")


def test_pictures_are_resized_and_converted_to_the_models_channels(tmp_path: Path) -> None:
    gray = tmp_path / "g.png"
    Image.new("L", (50, 10), 200).save(gray)
    rgb = load_picture(gray, (12, 14), 3)
    assert rgb.shape == (12, 14, 3) and rgb.dtype == np.uint8 and (rgb == 200).all()
    colour = tmp_path / "c.png"
    Image.new("RGBA", (9, 9), (255, 0, 0, 0)).save(colour)  # fully transparent: white, as a browser shows it
    assert (load_picture(colour, (4, 4), 1) == 255).all()
