"""origin.json as a typed record: where a model trained elsewhere came from, written where train writes its report.

No TensorFlow here: export reads it to describe the model its artifacts are made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sketch_edge.data.dataset import contract_of
from sketch_edge.errors import RecordError
from sketch_edge.records import Count, Fraction, Record

TRAINED_ELSEWHERE = "trained elsewhere"


@dataclass(frozen=True)
class Origin(Record):
    """A user's Keras classifier as sketch-edge took it: the file, what it reads and answers, and its test top-1."""

    FILE = "origin.json"
    SCHEMA_VERSION = 1

    model: str  # what tables and files call it: `external:<file stem>`
    trained: str  # TRAINED_ELSEWHERE
    file: str  # the user's .keras file, as given
    sha256: str  # of the user's file
    keras_version: str  # the version that saved it (its metadata.json), "" when the file does not say
    input: dict[str, Any]  # the input contract (data.InputSpec)
    contract_from: str  # what said the pixel mapping: the model's leading layer, or --input-range
    outputs: str  # "probabilities", or "logits" (then the adopted model.keras has a Softmax layer appended)
    adopted: str  # what OUT/model.keras is: the user's file copied, or the user's model with what was added to it
    classes: tuple[str, ...]
    data: dict[str, Any]  # the image folder's description, with the `request` that reads it again
    splits: dict[str, Count]
    parameters: Count
    test_top1: Fraction  # Keras's, on the saved test split
    seconds: float
    request: dict[str, Any]  # the take's options (data folder, labels file, input range, seed): the same again is a no-op
    reused: bool = False  # set when a take found OUT already taken from the same file and request; never saved (as Manifest's)

    def check(self, where: str) -> None:
        if self.reused:
            raise RecordError("reused is not a field of a saved origin.json")
        if self.trained != TRAINED_ELSEWHERE:
            raise RecordError(f"trained is {self.trained!r}, not {TRAINED_ELSEWHERE!r}")
        contract_of(self.input)
        if not isinstance(self.data.get("request"), dict):
            raise RecordError("data.request is missing (the image folder the split was read from)")

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.pop("reused")
        return data

    @classmethod
    def upgrade_hint(cls) -> str:
        return "take the model again with this version (`sketch-edge export --model FILE.keras --data FOLDER`)"
