"""What each format's graph declares without a runtime: inputs, outputs, constant types and MACs (`bench --model`)."""

import pytest

from sketch_edge.formats import FORMATS
from sketch_edge.manifest import Manifest


@pytest.mark.slow
def test_every_exported_file_counts_the_keras_models_macs_and_declares_one_input(exported):
    root, _ = exported
    manifest = Manifest.load(root / "export" / "manifest.json")
    counted = 0
    for artifact in manifest.artifacts:
        fmt = FORMATS[artifact.format]
        if artifact.status != "ok" or fmt.graph_facts is None:
            continue
        path = root / "export" / artifact.path
        facts = fmt.graph_facts(path)
        assert (facts.inputs, facts.outputs) == (1, 1), artifact.name
        assert ("float16" in facts.tensor_types) == (artifact.precision == "fp16"), (artifact.name, facts.tensor_types)
        if artifact.precision in ("int8", "dynamic-int8") and artifact.format == "tflite":
            assert "int8" in facts.tensor_types, artifact.name
        if fmt.count_macs is not None:
            assert fmt.count_macs(path) == manifest.source.macs, artifact.name
            counted += 1
    assert counted >= 10  # the float, fp16, dynamic, int8 and mobile files of both formats
