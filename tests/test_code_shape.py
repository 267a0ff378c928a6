"""The package stays readable at a glance: no module over 350 lines, no function over 60 (issue "one module each")."""

import ast
from pathlib import Path

import sketch_edge

ROOT = Path(sketch_edge.__file__).parent
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


def test_no_module_is_over_350_lines_and_no_function_over_60():
    long: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        where = path.relative_to(ROOT).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{where}: {node.name} is {lines} lines")
    assert not long, long
