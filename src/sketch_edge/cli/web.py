"""`sketch-edge web`: the demo page, built from the exported ONNX models into one static folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from sketch_edge.cli.options import DEFAULT_ARTIFACTS, PORT, Paths
from sketch_edge.display import printable

NAME = "web"
HELP = "build the demo page (the exported ONNX models, onnxruntime-web) into ARTIFACTS/web"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding export/manifest.json (default: artifacts)"
    )
    parser.add_argument("--out", type=Path, default=None, help="page folder (default: ARTIFACTS/web)")
    parser.add_argument(
        "--serve",
        type=PORT,
        default=None,
        metavar="PORT",
        help="then serve it on 127.0.0.1:PORT (gzip, cross-origin isolated) until Ctrl-C",
    )


def paths(args: argparse.Namespace) -> Paths:
    from sketch_edge.layout import Layout

    layout = Layout(args.artifacts)
    return Paths(reads={"ARTIFACTS's export folder": layout.export}, writes={"--out": args.out or layout.web})


def run(args: argparse.Namespace) -> int:
    from sketch_edge.layout import Layout
    from sketch_edge.webpage import build
    from sketch_edge.webserver import server

    out = args.out or Layout(args.artifacts).web
    running = None if args.serve is None else server(out, args.serve)  # a port in use fails before the build
    entries = build(args.artifacts, out)
    names = ", ".join(printable(e["name"]) for e in entries)
    print(f"built {printable(out)}: {names} (default {printable(entries[0]['name'])})")
    if running is not None:
        with running:
            print(f"serving http://127.0.0.1:{running.server_port}/ (Ctrl-C stops it)", flush=True)
            running.serve_forever()
    return 0
