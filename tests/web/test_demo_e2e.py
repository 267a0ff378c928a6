"""End to end: the demo page in Debian's headless Chromium, drawings replayed as pointer events, the page's
top-1 (onnxruntime-web, WebAssembly) against the Python predictor's on the same points."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sketch_edge import webserver
from sketch_edge.data import synthetic
from sketch_edge.data.drawing import parse_drawing
from sketch_edge.data.raster import rasterize
from sketch_edge.data.sequence import to_sequence
from sketch_edge.runtime import Predictor
from tests.helpers import REPO, TINY_CLASSES

NODE = shutil.which("node")
CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT = REPO / "web" / "node_modules" / "playwright-core"
SCREENSHOT = REPO / "build" / "demo-e2e.png"
CANVAS_OFFSET = 32  # drawings (0-255) are replayed at this offset inside the 320-pixel canvas

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed (.ci/run installs it)"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (Debian's chromium package; .ci/run installs it)"),
    pytest.mark.skipif(not PLAYWRIGHT.is_dir(), reason="playwright-core is not installed (`npm ci` in web/; .ci/run does it)"),
]


@dataclass(frozen=True)
class Site:
    url: str  # the server's root
    folder: Path  # what it serves: web/ (the page as built) and bare/ (a copy for tampering)
    artifacts: Path


@pytest.fixture(scope="module")
def site(exported, tmp_path_factory):
    """The page built from the exported test model, served on localhost."""
    yield from _serve(exported[0], tmp_path_factory)


@pytest.fixture(scope="module")
def stroke_site(exported_strokes, tmp_path_factory):
    """The page built from the exported stroke model, served on localhost."""
    yield from _serve(exported_strokes[0], tmp_path_factory)


def _serve(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("sites")
    for name in ("web", "bare"):
        subprocess.run([sys.executable, "-m", "sketch_edge", "web", "--artifacts", str(root), "--out", str(folder / name)], check=True)
    server = webserver.server(folder, 0)  # as `make demo` serves it: gzip, cross-origin isolated
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Site(f"http://127.0.0.1:{server.server_port}", folder, root)
    server.shutdown()


def _replay(url: str, drawings: list, tmp_path: Path, screenshot: Path, model: str | None = None) -> dict:
    (tmp_path / "drawings.json").write_text(json.dumps(drawings))
    command = [
        NODE,
        str(REPO / "web" / "tests" / "e2e.mjs"),
        url,
        str(tmp_path / "drawings.json"),
        str(tmp_path / "out.json"),
        str(screenshot),
    ]
    done = subprocess.run(command + ([model] if model else []), capture_output=True, text=True, timeout=300, cwd=REPO / "web")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((tmp_path / "out.json").read_text())


def _test_drawings(count: int, seed: int) -> list:
    drawings, _ = synthetic.generate(TINY_CLASSES, per_class=(count + len(TINY_CLASSES) - 1) // len(TINY_CLASSES), seed=seed)
    return [[[[x + CANVAS_OFFSET for x in xs], [y + CANVAS_OFFSET for y in ys]] for xs, ys in d] for d in drawings[:count]]


@pytest.mark.parametrize(
    ("kind", "model", "count"), [("bitmap", "onnx-int8", 24), ("bitmap", "onnx-fp32", 6), ("strokes", "onnx-int8", 12)]
)
def test_page_predicts_what_python_predicts(request, tmp_path, kind, model, count):
    site = request.getfixturevalue("site" if kind == "bitmap" else "stroke_site")
    drawings = _test_drawings(count, seed=11)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    screenshot = SCREENSHOT if (kind, model) == ("bitmap", "onnx-int8") else SCREENSHOT.with_name(f"demo-e2e-{kind}-{model}.png")
    out = _replay(f"{site.url}/web/index.html", drawings, tmp_path, screenshot, None if model == "onnx-int8" else model)
    assert out["problems"] == []
    assert model in out["facts"]["model"] and "KiB" in out["facts"]["size"] and "ms model" in out["facts"]["latency"]
    network, unpacked = (float(part.split(" MiB")[0].split()[-1]) for part in out["facts"]["downloaded"].split(",")[:2])
    assert 0 < network < unpacked / 2, out["facts"]["downloaded"]  # the runtime came gzipped
    assert out["facts"]["downloaded"].endswith("; cross-origin isolated")
    assert f"{kind} input" in out["facts"]["model"] and out["facts"]["classes"] == f"{len(TINY_CLASSES)}: {', '.join(TINY_CLASSES)}"
    assert screenshot.stat().st_size > 10_000
    model_input = rasterize if kind == "bitmap" else to_sequence

    predictor = Predictor(site.artifacts / "export" / f"{model}.onnx")
    mismatches, probability_gaps = [], []
    for i, (sent, result) in enumerate(zip(drawings, out["results"], strict=True)):
        recorded = result["strokes"]  # [[xs], [ys], [t]] per stroke: raw, as the page captured them
        assert len(recorded) == len(sent), f"drawing {i}: sent {len(sent)} strokes, the page recorded {len(recorded)}"
        simplified, _ = parse_drawing(recorded, f"drawing {i}")
        assert result["input"] == model_input(simplified).reshape(-1).tolist(), f"drawing {i}: the page's model input differs"
        python_top = predictor.predict(recorded, top=3)
        page_top = [tuple(pair) for pair in result["top"]]
        probability_gaps.append(abs(page_top[0][1] - python_top[0][1]))
        if page_top[0][0] != python_top[0][0]:
            mismatches.append(f"drawing {i}: page {page_top}, python {python_top}")
    agreed = len(drawings) - len(mismatches)
    print(f"{kind} {model}: {agreed}/{len(drawings)} top-1 agree; max top-1 probability gap {max(probability_gaps):.2e}")
    print("\n".join(mismatches))
    assert len(mismatches) <= 1, mismatches


def test_a_model_without_metadata_is_a_message_on_the_page(site, tmp_path):
    """The page takes its labels from the model: a file without them is reported, not a crash or made-up labels."""
    import onnx

    model = onnx.load(str(site.folder / "web" / "models" / "onnx-int8.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(site.folder / "bare" / "models" / "onnx-int8.onnx"))
    out = _replay(f"{site.url}/bare/index.html", [], tmp_path, tmp_path / "bare.png")
    assert "no sketch-edge metadata" in out["facts"]["status"]
    assert out["facts"]["model"] == "not loaded"
