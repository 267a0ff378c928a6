"""Build the demo page: web/src + onnxruntime-web from node_modules + the exported ONNX models -> one static folder.

    sketch-edge web --artifacts artifacts        # writes artifacts/web/

The folder is complete on its own (the page loads nothing from any other host) and
is built in a temporary folder, then renamed into place. `make demo` builds and serves it.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from sketch_edge import fileio
from sketch_edge.bench.answer import BROWSER
from sketch_edge.bench.results import read
from sketch_edge.errors import BenchError, WebBuildError
from sketch_edge.formats import FORMATS
from sketch_edge.layout import RESULTS, Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime import RUNTIMES

WEB = Path(__file__).resolve().parents[2] / "web"
"""The page's sources and its Node packages, in the clone (`make web-setup` installs them)."""
ORT_DIST = WEB / "node_modules" / "onnxruntime-web" / "dist"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
"""The smallest onnxruntime-web build that runs the model: the WebAssembly-only entry and its one runtime, the plain
SIMD build (14.16 MiB in 1.31.1; npm's jspi, asyncify and jsep builds are 17.09 to 28.15 MiB, for other hosts and WebGPU). It runs
single-threaded where the page is not cross-origin isolated."""
GZIPPED = ("ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs", "ort.wasm.min.mjs")
"""Files the build also writes gzipped (`webserver` sends those to a browser that accepts gzip): 14.16 MiB -> 3.62 MiB."""
FALLBACK_DEFAULT = "onnx-int8"  # the page's first model until a bench has answered for the browser
SERVED_KINDS = ("bitmap", "strokes")  # what the page draws: a model trained elsewhere on pictures gets one line instead
PRECISIONS = ("int8", "fp32")  # static QDQ int8 by default, fp32 to compare


def _gzip(path: Path) -> None:
    """`path.gz` beside it, byte for byte what gzip -9 makes (mtime 0, so a rebuild gives the same bytes)."""
    with path.open("rb") as source, gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", compresslevel=9, mtime=0) as packed:
        shutil.copyfileobj(source, packed)


def browser_answer(layout: Layout, manifest: Manifest) -> str | None:
    """The recipe the bench of these very files answered for the browser page (bench.answer), or None: not benched,
    benched before this export, or a results.json that does not read."""
    try:
        results = read(layout.bench / RESULTS)
    except BenchError:
        return None
    if results.source.sha256 != manifest.source.sha256:
        return None
    return next((a.recipe for a in results.answers if a.target == BROWSER and a.recipe), None)


def build(artifacts: Path, out: Path) -> list[dict[str, object]]:
    """Write the page to `out` (replacing it); return the models it offers, the default first."""
    layout = Layout(artifacts)
    manifest = Manifest.load(layout.manifest)
    if manifest.source.input.get("kind") not in SERVED_KINDS:
        raise WebBuildError(
            f"{layout.manifest}: the demo page draws sketches; {manifest.source.model} reads "
            f"{manifest.source.input.get('description', 'another input')}, which the page cannot serve"
        )
    served = {f for spec in RUNTIMES.values() for f in spec.browser_formats}
    models = [a for a in manifest.artifacts if a.format in served and a.status == "ok" and a.precision in PRECISIONS]
    if not models:
        suffixes = " or ".join(sorted(FORMATS[f].suffixes[0] for f in served))
        raise WebBuildError(f"{layout.manifest}: no {suffixes} artifact passed export, so the page has no model")
    first = browser_answer(layout, manifest) or FALLBACK_DEFAULT
    models.sort(key=lambda a: (a.name != first, a.name))
    files = {a.name: resolve(layout.export, a) for a in models}
    absent = [a.path for a in models if not files[a.name].is_file()]
    if absent:
        raise WebBuildError(f"{layout.export}: {', '.join(absent)} listed in the manifest but missing (run {layout.export_command})")
    missing = [name for name in ORT_FILES if not (ORT_DIST / name).is_file()]
    if missing:
        raise WebBuildError(f"{ORT_DIST}: {', '.join(missing)} missing (run `npm ci` in {WEB}; `make demo` does)")

    staging = fileio.scratch_dir(out.parent, f".{out.name}.", WebBuildError)
    try:
        for source in sorted((WEB / "src").iterdir()):
            shutil.copy2(source, staging / source.name)
        (staging / "vendor").mkdir()
        for name in ORT_FILES:
            shutil.copy2(ORT_DIST / name, staging / "vendor" / name)
            if name in GZIPPED:
                _gzip(staging / "vendor" / name)
        (staging / "models").mkdir()
        entries: list[dict[str, object]] = []
        for artifact in models:
            target = Path("models") / files[artifact.name].name
            shutil.copy2(files[artifact.name], staging / target)
            entries.append({"name": artifact.name, "file": target.as_posix(), "bytes": artifact.bytes, "default": not entries})
        (staging / "models.json").write_text(json.dumps(entries, indent=2))
        staging.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return entries
