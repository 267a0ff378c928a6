"""Build the demo page: web/src + onnxruntime-web from node_modules + the exported ONNX models -> one static folder.

    sketch-edge web --artifacts artifacts        # writes artifacts/web/

The folder is complete on its own (the page loads nothing from any other host) and
is built in a temporary folder, then renamed into place. `make demo` builds and serves it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sketch_edge import fileio
from sketch_edge.errors import WebBuildError
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve

WEB = Path(__file__).resolve().parents[2] / "web"
"""The page's sources and its Node packages, in the clone (`make web-setup` installs them)."""
ORT_DIST = WEB / "node_modules" / "onnxruntime-web" / "dist"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
DEFAULT_MODEL = "onnx-int8"
SERVED_KINDS = ("bitmap", "strokes")  # what the page draws: a model trained elsewhere on pictures gets one line instead
PRECISIONS = ("int8", "fp32")  # static QDQ int8 by default, fp32 to compare


def build(artifacts: Path, out: Path) -> list[dict[str, object]]:
    """Write the page to `out` (replacing it); return the models it offers, the default first."""
    layout = Layout(artifacts)
    manifest = Manifest.load(layout.manifest)
    if manifest.source.input.get("kind") not in SERVED_KINDS:
        raise WebBuildError(
            f"{layout.manifest}: the demo page draws sketches; {manifest.source.model} reads "
            f"{manifest.source.input.get('description', 'another input')}, which the page cannot serve"
        )
    models = [a for a in manifest.artifacts if a.format == "onnx" and a.status == "ok" and a.precision in PRECISIONS]
    if not models:
        raise WebBuildError(f"{layout.manifest}: no ONNX artifact passed export, so the page has no model")
    models.sort(key=lambda a: (a.name != DEFAULT_MODEL, a.name))
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
