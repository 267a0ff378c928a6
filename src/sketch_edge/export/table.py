"""The export's terminal table: one row per artifact, what its gates, checks and emulated Arm runs said."""

from __future__ import annotations

from sketch_edge.export.arm import cell as arm_cell
from sketch_edge.export.verify import clear_agreement
from sketch_edge.manifest import Details, Manifest, Parity, SensitivitySummary
from sketch_edge.reporting import fmt

TABLE_HEADER = (
    "recipe",
    "status",
    "size KiB",
    "val agreement",
    "max |diff|",
    "test top-1",
    "seconds",
    "worst layer (noise added, SQNR)",
    "float layers",
    "mobile check",
    "emulated Arm",
)


def table_rows(manifest: Manifest) -> list[list[str]]:
    """One row per artifact for the terminal table (TABLE_HEADER)."""
    return [
        [
            a.name,
            a.status,
            f"{a.bytes / 1024:.1f}",
            agreement_cell(a.parity),
            fmt(a.parity and a.parity.max_abs_diff, ".1e"),
            fmt(a.details.test_top1, ".4f"),
            f"{a.seconds:.1f}",
            _worst_layer(a.details.sensitivity) or "",
            fmt(a.details.fallback and a.details.fallback.k),
            mobile_check(a.details),
            arm_cell(a),
        ]
        for a in manifest.artifacts
    ]


def agreement_cell(p: Parity | None) -> str:
    """Top-1 agreement on the validation drawings; for a quantized file with near-ties, the clear drawings' too."""
    if p is None:
        return ""
    clear = clear_agreement(p)
    return f"{p.top1_agreement:.4f}" + (f" ({clear:.4f} w/o {p.near_ties} ties)" if p.near_ties and clear != p.top1_agreement else "")


SHORT_PROVIDERS = {"NNAPI": "NNAPI", "CoreML NeuralNetwork": "CoreML NN", "CoreML MLProgram": "CoreML MLProgram"}


def mobile_check(d: Details) -> str:
    """What the mobile checks said, in a table cell: the client's run, the providers' coverage, the twin's match."""
    said = []
    if d.client is not None:
        c = d.client
        said.append(
            f"MediaPipe {c.status}" + (f": same top-1 as LiteRT on {c.agreement:.2%} of {c.samples}" if c.agreement is not None else "")
        )
    said += [f"{SHORT_PROVIDERS.get(p.provider, p.provider)} {p.verdict} {p.supported_nodes}/{p.nodes}" for p in d.providers]
    if d.twin is not None:
        said.append(f"as {d.twin.twin} (max |diff| {fmt(d.twin.max_abs_diff, '.0e', 'not finite')})")
    return "; ".join(said)


def _worst_layer(s: SensitivitySummary | None) -> str | None:
    if s is None:
        return None
    if s.error is not None:
        return s.error
    if s.worst_layer is None:
        return f"no layer matched ({s.skipped} skipped)"
    return f"{s.worst_layer} (+{100 * (s.worst_added_noise or 0):.2f}%, SQNR {fmt(s.worst_sqnr_db, '.1f')} dB)"
