"""Nothing imports upward: every import of the package, those inside functions too, goes to its own layer or below,
as the layer table of docs/architecture.md states it (the test reads the table, so the two cannot disagree)."""

import ast
import re
from pathlib import Path

import sketch_edge

ROOT = Path(sketch_edge.__file__).parent
DOC = Path(__file__).parents[1] / "docs" / "architecture.md"


def layers() -> list[set[str]]:
    """Each row of the table, lowest first: the top-level modules and packages it names (`formats/`, `webpage.py`)."""
    table = DOC.read_text().split("## The layers", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[2] for line in table.splitlines() if line.startswith("| ") and "`" in line.split("|")[2]]
    return [{re.sub(r"(/|\.py)$", "", name) for name in re.findall(r"`([^`]+)`", row)} for row in rows]


def layer_of(module: str, table: list[set[str]]) -> int | None:
    top = module.split(".")[0]
    return next((i for i, names in enumerate(table) if top in names), None)


def imports(tree: ast.AST) -> list[str]:
    """The package's modules a file imports, by their name below `sketch_edge.`; under `if TYPE_CHECKING:` too
    (an annotation is a dependency of the reader even where Python skips it)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sketch_edge":
                found += [alias.name for alias in node.names]
            elif node.module.startswith("sketch_edge."):
                found.append(node.module.removeprefix("sketch_edge."))
        elif isinstance(node, ast.Import):
            found += [a.name.removeprefix("sketch_edge.") for a in node.names if a.name.startswith("sketch_edge.")]
    return found


def test_the_table_names_every_module_once():
    table = layers()
    names = [name for row in table for name in row]
    assert len(names) == len(set(names)) and len(table) >= 10, table
    tops = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in ROOT.rglob("*.py")} - {"__init__"}
    assert tops <= set(names), f"modules in no layer of {DOC.name}: {sorted(tops - set(names))}"


def test_nothing_imports_upward():
    table = layers()
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        if module == "__init__":
            continue
        mine = layer_of(module, table)
        for target in imports(ast.parse(path.read_text())):
            theirs = layer_of(target, table)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert not upward, upward


def test_an_upward_import_is_caught():
    table = layers()
    tree = ast.parse("def f():\n    from sketch_edge.bench import plan\n")
    assert [layer_of(t, table) for t in imports(tree)] == [layer_of("bench", table)]
    assert layer_of("bench", table) > layer_of("formats.onnx", table) > layer_of("errors", table)
