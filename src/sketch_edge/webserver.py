"""The demo page's server (`sketch-edge web --serve`, `make demo`): the static page folder, gzip where it is smaller,
and the headers that make the page cross-origin isolated.

Why not `python -m http.server`: onnxruntime-web's WebAssembly runtime is 14.16 MiB, 3.62 MiB gzipped, and the build
writes the gzipped copy beside it (`webpage.GZIPPED`); a browser that accepts gzip is sent that. COOP and COEP make
the page cross-origin isolated, which WebAssembly threads need and which gives `performance.now()` its finer
resolution (the page says which it got).
"""

from __future__ import annotations

import functools
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sketch_edge.errors import WebBuildError

ISOLATION = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class PageHandler(SimpleHTTPRequestHandler):
    """Files of one folder; `X.gz` in place of X for a client that accepts gzip; quiet unless `verbose`."""

    verbose = False
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript", ".wasm": "application/wasm"}

    def end_headers(self) -> None:
        for name, value in ISOLATION.items():
            self.send_header(name, value)
        super().end_headers()

    def send_head(self):  # the base class's own signature
        path = Path(self.translate_path(self.path))
        packed = path.with_name(path.name + ".gz")
        if path.is_file() and packed.is_file() and "gzip" in self.headers.get("Accept-Encoding", ""):
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(packed.stat().st_size))
            self.end_headers()
            return packed.open("rb")
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        if self.verbose:
            super().log_message(format, *args)


def server(folder: Path, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server of `folder` (read per request: it may be built after) bound to `port` (0: any free one), not yet
    serving; a port it cannot bind is one line (WebBuildError)."""
    try:
        return ThreadingHTTPServer((host, port), functools.partial(PageHandler, directory=os.fspath(folder)))
    except OSError as exc:
        raise WebBuildError(f"{host}:{port}: cannot serve the page there ({exc.strerror or exc})") from None
