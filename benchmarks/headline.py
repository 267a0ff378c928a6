"""The README's headline, made from a bench's results so it cannot drift from what was measured.

    python benchmarks/headline.py ARTIFACTS/bench/results.json   # keep its answers in docs/results/headline.json
    python benchmarks/headline.py                                # write the README section from that file

The kept file holds the bench's answers (the file to ship per target, with intervals), the model, the machine (CPU
model and flags), the commit and the time. The README's section between its `headline` markers is rendered from it;
`tests/test_headline.py` checks the two agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.bench.answer_table import HEADER, rows
from sketch_edge.bench.results import Answer, Results, read
from sketch_edge.models import short_name
from sketch_edge.reporting import markdown_table

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "docs" / "results" / "headline.json"
README = ROOT / "README.md"
START, END = "<!-- headline:start (benchmarks/headline.py writes this) -->", "<!-- headline:end -->"


def kept(results: Results, how: str) -> dict[str, Any]:
    """What the headline needs of a bench run, as plain JSON (a results.json is too large to commit)."""
    return {
        "from": how,
        "model": short_name(results.source.model),
        "test_drawings": results.test_samples,
        "cpu": results.environment.cpu,
        "cpu_flags": list(results.environment.cpu_flags),
        "cores": results.environment.cores,
        "commit": results.environment.git_revision,
        "time": results.environment.time,
        "libraries": results.environment.libraries,
        "answers": [a.to_json() for a in results.answers],
    }


def section(headline: dict[str, Any]) -> str:
    """The README's headline section, from the kept file."""
    answers = tuple(Answer.from_json(a) for a in headline["answers"])
    shown = rows(answers)  # the bench's own wording of its answers
    flags = ", ".join(headline["cpu_flags"]) or "no SIMD flags read"
    lines = [
        f"`{headline['model']}` on the real 10-class subset ({headline['test_drawings']:,} test drawings), from "
        f"`{headline['from']}`: {headline['cpu']} ({flags}), {headline['cores']} cores, commit {headline['commit']}, "
        f"{headline['time'][:10]}. The file to ship per target, its p50 and its test top-1, each with its 95% interval; "
        "`ties`: the other cells that cannot be told apart from it in top-1 / in latency "
        "([glossary](docs/glossary.md), [bench.md](docs/bench.md)). On another CPU the times differ: compare ratios "
        "within one run, as `report.md` does.",
        "",
        *markdown_table(HEADER, shown),
        "",
        *(f"- `{a.target}`: {a.description}" + (f"; {a.note}" if a.note else "") for a in answers),
    ]
    return "\n".join(lines)


def rendered(readme: str, headline: dict[str, Any]) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{section(headline)}\n{END}{after}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", help="a bench's results.json to keep (default: render the kept one)")
    parser.add_argument("--how", default="make bench DATA=../shared/quickdraw/numpy_bitmap", help="the command that made it")
    args = parser.parse_args()
    if args.results:
        fileio.write_text(KEPT, json.dumps(kept(read(args.results), args.how), indent=2) + "\n")
    fileio.write_text(README, rendered(README.read_text(), json.loads(KEPT.read_text())))
    print(f"{README}: headline from {KEPT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
