"""Every registry record is built by keyword: a field is never read by counting commas (issue: one module each)."""

import dataclasses

import pytest

from sketch_edge.bench.peak import KERNELS, Kernel
from sketch_edge.export.recipes import CLIENTS, GATES, RECIPES, Client, Gate, Recipe
from sketch_edge.formats import FORMATS, Format
from sketch_edge.models.registry import ModelSpec, get_model_spec, list_models
from sketch_edge.runtime import RUNTIMES
from sketch_edge.runtime.base import RuntimeSpec

REGISTRIES = {
    Recipe: RECIPES.values(),
    RuntimeSpec: RUNTIMES.values(),
    Format: FORMATS.values(),
    Kernel: KERNELS,
    Gate: GATES.values(),
    Client: CLIENTS.values(),
    ModelSpec: [get_model_spec(name) for name in list_models()],
}


@pytest.mark.parametrize("record", list(REGISTRIES), ids=lambda cls: cls.__name__)
def test_registry_records_are_frozen_and_keyword_only(record):
    assert record.__dataclass_params__.frozen and all(f.kw_only for f in dataclasses.fields(record)), record.__name__
    entries = list(REGISTRIES[record])
    assert entries and all(isinstance(entry, record) for entry in entries)
    values = [getattr(entries[0], f.name) for f in dataclasses.fields(record)]
    with pytest.raises(TypeError):
        record(*values)  # positionally: refused
    assert record(**{f.name: v for f, v in zip(dataclasses.fields(record), values, strict=True)}) == entries[0]


def test_every_client_a_recipe_names_is_registered_and_its_check_loads():
    from sketch_edge.plugins import load

    assert {r.client for r in RECIPES.values() if r.client} == set(CLIENTS)
    for client in CLIENTS.values():
        assert callable(load(client.check)), client.name


def test_quantizations_and_twins_name_what_exists():
    for recipe in RECIPES.values():
        assert recipe.converts is None or RECIPES[recipe.converts].format != recipe.format, recipe.name
        assert (recipe.quantization is None) == (
            recipe.compute == "fp32" or recipe.exporter.endswith("export_aeq") or recipe.converts is not None
        ), recipe.name


REGISTRY_HOMES = (
    "formats/",
    "runtime/",
    "export/recipes.py",
    "export/mobile.py",
    "export/onnx.py",
    "export/ort.py",
    "export/tflite.py",
    "bench/peak.py",
    "cli/",
)
"""Where a format, runtime or client name may be spelled: its own modules (its format, adapter, exporter, client
check), the registry tables, and the CLI's help."""
NOT_YET = {
    "manifest.py": 1,  # the reader of a version 5 manifest: its reduced_build was the .ort format's after-export file
}
"""Names still spelled outside their registries, counted: the count may only fall (issue "one module each")."""


def test_registry_names_are_not_spelled_outside_their_registries():
    import ast
    from pathlib import Path

    import sketch_edge

    names = set(FORMATS) | set(RUNTIMES) | set(CLIENTS)
    root = Path(sketch_edge.__file__).parent
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root).as_posix()
        if where.startswith(REGISTRY_HOMES):
            continue
        literals = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant) and n.value in names]
        if literals:
            found[where] = len(literals)
    assert found == NOT_YET, "a registry name spelled outside its registry (or one fewer: lower NOT_YET)"
