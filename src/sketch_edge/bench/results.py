"""results.json as typed records: what the bench writes, and `compare`, `--baseline`, the tuner and the report read.

A results.json is a user's file by the time it is read again: hand-edited,
truncated, or from another version. `read` checks every field against the
records below (`sketch_edge.records`) and names the one that is wrong, so a bad
file is a one-line `BenchError`, never a traceback in the middle of a table.
The CSV's columns are derived from `Row`'s fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sketch_edge.errors import BenchError, RecordError
from sketch_edge.manifest import ArmCheck, ClientCheck, Fallback, ProviderCoverage, SensitivitySummary, TwinCheck
from sketch_edge.records import Count, Figure, Fraction, Record, field_names

STATUSES = ("ok", "low-accuracy", "failed", "skipped")


@dataclass(frozen=True)
class Latency(Record):
    """Per-call latencies of one cell, in microseconds (bench.timing.summarize)."""

    p50: Figure
    p90: Figure
    p99: Figure
    mean: Figure
    std: Figure
    min: Figure
    calls: Count
    p50_low: Figure | None = None  # the p50's 95% interval: the range of the rounds' p50s with --repeat, else the
    p50_high: Figure | None = None  # median's order-statistic interval over the calls of its one round (bench.timing)


@dataclass
class Row(Record):
    """One cell: an artifact in one runtime at one (threads, batch); or, without them, a file that could not run."""

    recipe: str
    format: str
    precision: str
    compute: str
    runtime: str
    key: str
    threads: Count | None = None  # None: a file that could not run (no cell)
    batch: Count | None = None
    status: str = "ok"  # STATUSES
    error: str | None = None
    top1: Fraction | None = None
    top3: Fraction | None = None
    map3: Fraction | None = None
    agreement: Fraction | None = None  # top-1 agreement with Keras on the same drawings
    per_class: dict[str, Fraction] | None = None
    confusion: list[list[int]] | None = None
    latency_us: Latency | None = None  # the runtime's own call on a prepared input
    e2e_latency_us: Latency | None = None  # the adapter's whole path
    p50_rounds: tuple[Figure, ...] | None = None  # with --repeat: each round's p50
    p50_spread: Figure | None = None
    throughput_per_s: Figure | None = None
    load_ms: Figure | None = None
    first_call_ms: Figure | None = None
    peak_rss_mb: Figure | None = None
    rss_growth_mb: float | None = None
    bytes: Count | None = None  # of the artifact's file
    macs: Count | None = None
    gmacs_per_s: Figure | None = None
    peak_fraction: Figure | None = None  # achieved GMAC/s over the peak of the cell's compute kind
    peak_kernel: str | None = None
    other_cpu: Figure | None = None  # other processes' CPU, in cores, while it was timed (bench.noise)
    noisy: bool | None = None
    pareto: bool = False
    amx_denied: bool = False  # run with AMX denied to its process (sketch_edge.amx): the twin of the cell without

    @property
    def shown_runtime(self) -> str:
        """The runtime as tables and plots name it: a cell run with AMX denied is told apart from its twin."""
        return f"{self.runtime} no-AMX" if self.amx_denied else self.runtime

    @property
    def measured(self) -> bool:
        return self.status in ("ok", "low-accuracy")

    @property
    def p50(self) -> float | None:
        return self.latency_us.p50 if self.latency_us else None

    def check(self, where: str) -> None:
        if self.status not in STATUSES:
            raise RecordError(f"{where}.status is {self.status!r}, not one of {', '.join(STATUSES)}")
        if self.measured and (self.top1 is None or self.latency_us is None):
            raise RecordError(f"{where}: a measured cell without its top-1 and p50")


@dataclass(frozen=True)
class Peak(Record):
    """The machine's peak for one compute kind at one thread count: its fastest kernel's timing."""

    gops: Figure
    kernel: str
    other_cpu: Figure | None = None
    noisy: bool | None = None
    beaten_by: tuple[str, ...] = ()  # cells still faster after a second timing: not this CPU's ceiling


@dataclass(frozen=True)
class KernelTiming(Record):
    """One kernel's GEMM timed in one runtime at one thread count (bench.peak)."""

    kernel: str
    runtime: str
    threads: Count
    kinds: tuple[str, ...] = ()
    gops: Figure | None = None  # None: it failed (`error`)
    median_ms: Figure | None = None
    runs: Count | None = None
    other_cpu: Figure | None = None
    error: str | None = None
    round: Count = 0  # 1: timed again after the cells
    noisy: bool | None = None


@dataclass(frozen=True)
class Environment(Record):
    cpu: str
    cpu_flags: tuple[str, ...]
    cores: Count
    os: str
    python: str
    libraries: dict[str, str | None]
    git_revision: str | None
    time: str


@dataclass(frozen=True)
class BenchSource(Record):
    """The model benched and the test drawings every cell was measured on."""

    model: str
    input_kind: str
    sha256: str
    labels: tuple[str, ...]
    macs: Count | None
    keras_test_top1: Fraction
    split: str
    split_sha256: str
    test_drawings: str  # a digest of the source and the test positions: compare matches results on it
    reference: str = "Keras"  # what `test agree` and `keras_test_top1` are of: Keras, or the reference file (`bench --model`)


@dataclass(frozen=True)
class Settings(Record):
    quick: bool = False
    repeat: Count = 1
    pin_core: Count | None = None
    duration_s: Figure = 1.0


@dataclass(frozen=True)
class Quantization(Record):
    """An int8 artifact's per-layer sensitivity and, for mixed recipes, its float fallback (as the manifest has them)."""

    sensitivity: SensitivitySummary | None = None
    fallback: Fallback | None = None


@dataclass(frozen=True)
class Mobile(Record):
    """A mobile recipe's artifact as the export checked it (export.mobile): which client takes it, and what it said."""

    client: str  # export.recipes.CLIENTS: the client and what it checked
    client_check: ClientCheck | None = None  # the client's own run of the file
    providers: tuple[ProviderCoverage, ...] = ()  # ONNX Runtime Mobile's execution providers (of the file or its twin)
    twin: TwinCheck | None = None  # a converted file against the one it was converted from


@dataclass(frozen=True, kw_only=True)
class Answer(Record):
    """The file to ship for one target (bench.answer): the fastest of the cells as accurate as its most accurate."""

    target: str  # bench.answer.TARGETS
    description: str
    cell: str | None = None  # the cell's key; None: no cell stood for the target (`note` says why)
    recipe: str | None = None
    runtime: str | None = None
    measure: str = "p50"  # what `us` is: the runtime's call (p50), the predictor's path (e2e), p50 per drawing
    us: Figure | None = None
    us_interval: tuple[Figure, Figure] | None = None  # 95%: across rounds with --repeat, else within its one round
    per_s: Figure | None = None
    top1: Fraction | None = None
    top1_interval: tuple[Fraction, Fraction] | None = None  # 95% Wilson interval on the test drawings
    same_accuracy: tuple[str, ...] = ()  # the other candidates whose top-1 cannot be told apart from its own
    same_latency: tuple[str, ...] = ()  # those whose interval overlaps its own
    candidates: Count = 0
    noisy: bool = False  # timed while other processes were busy
    note: str = ""  # how this machine stands for the target

    def check(self, where: str) -> None:
        parts = (self.cell or "").split("/")
        if self.cell is not None and (len(parts) not in (4, 5) or not all(parts)):
            raise RecordError(f"{where}.cell is {self.cell!r}, not a cell key (recipe/runtime/tN/bN)")


@dataclass(frozen=True)
class Results(Record):
    """One bench run: results.json."""

    FILE = "results.json"
    SCHEMA_VERSION = 7  # 7: `answers`; 6: source.reference (files made elsewhere); 5: `arm`; 4: `mobile`; 3:
    READS_VERSIONS = (5, 6)  # `schema_version`, typed records; 2: `schema`, other_cpu/noisy; 1: neither. 5 and 6 lack
    # only the reference and the answers.

    environment: Environment
    source: BenchSource
    settings: Settings
    test_samples: Count
    noisy_above: Fraction
    results: tuple[Row, ...]
    peaks: dict[str, dict[str, Peak]] = field(default_factory=dict)  # {threads: {compute kind: peak}}
    peak_kernels: tuple[KernelTiming, ...] = ()
    quantization: dict[str, Quantization] = field(default_factory=dict)  # per quantized artifact
    mobile: dict[str, Mobile] = field(default_factory=dict)  # per mobile recipe's artifact
    arm: dict[str, dict[str, ArmCheck]] = field(default_factory=dict)  # per artifact run by `verify-arm`: its emulated CPUs
    profiles: dict[str, str] = field(default_factory=dict)  # cell key -> its per-op profile under bench/
    answers: tuple[Answer, ...] = ()  # the file to ship per target (bench.answer)

    @classmethod
    def upgrade_hint(cls) -> str:
        return "bench again with this version (`sketch-edge bench`)"


ADDED_COLUMNS = ("latency_us.p50_low", "latency_us.p50_high", "amx_denied")
"""Columns added since results.csv was first published: they go last, so a reader by position reads what it read."""


def _csv_columns() -> tuple[str, ...]:
    """results.csv: every scalar field of a row, the latency summary as columns (`latency_us.p50`, ...)."""
    columns: list[str] = []
    for name in field_names(Row):
        if name == "latency_us":
            columns += [f"latency_us.{part}" for part in field_names(Latency) if part != "calls"]
        elif name == "e2e_latency_us":
            columns.append("e2e_latency_us.p50")
        elif name not in ("key", "per_class", "confusion", "p50_rounds"):  # the key repeats columns; lists are not cells
            columns.append(name)
    return (*(c for c in columns if c not in ADDED_COLUMNS), *ADDED_COLUMNS)


CSV_COLUMNS = _csv_columns()


def read(path: Path) -> Results:
    """The results at `path`, every field checked; a one-line BenchError naming the file and the field otherwise."""
    try:
        return Results.load(path, missing="no bench results here (run `sketch-edge bench`)")
    except RecordError as exc:
        raise BenchError(str(exc)) from None
