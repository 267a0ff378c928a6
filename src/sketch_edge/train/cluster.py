"""Which worker this process is (TF_CONFIG), the strategy it trains under, and local multi-worker launches.

A real cluster sets `TF_CONFIG` on every host and starts `sketch-edge train` on
each; `sketch-edge train --workers N` does that on this machine, with N worker
processes on free 127.0.0.1 ports. A peer that never comes, hangs or dies must
end the run with a one-line error, not a hang: start-up and every step are
bounded by a watchdog, a dead peer's connection resets at once, and the local
launcher stops every worker when one fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge.errors import SketchEdgeError

WORKER_TIMEOUT_S = 120.0
"""How long a worker waits for its peers: to start, and between two steps (a step takes well under a second here;
the first includes tracing and, for a small source, reading it into the cache; an epoch's end, the validation)."""


class ClusterError(SketchEdgeError):
    """TF_CONFIG is wrong, a worker cannot start or reach its peers, or one died."""


@dataclass(frozen=True)
class Cluster:
    workers: int
    index: int  # this process's rank among the workers: 0 is the chief, the only one that writes
    config: dict[str, Any] | None  # TF_CONFIG, None for a single process

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    @classmethod
    def from_env(cls) -> Cluster:
        text = os.environ.get("TF_CONFIG", "").strip()
        return cls(1, 0, None) if not text else cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> Cluster:
        """A TF_CONFIG with `cluster.worker` (and optionally one `chief`) and this process's `task`."""
        try:
            config = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ClusterError(f"TF_CONFIG: not JSON ({str(exc).splitlines()[0]})") from None
        cluster = config.get("cluster") if isinstance(config, dict) else None
        task = config.get("task") if isinstance(config, dict) else None
        if not isinstance(cluster, dict) or not isinstance(task, dict):
            raise ClusterError('TF_CONFIG: needs {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}')
        unknown = set(cluster) - {"chief", "worker"}
        if unknown:
            raise ClusterError(f"TF_CONFIG: job {sorted(unknown)[0]!r} is not used here (only 'chief' and 'worker')")
        jobs = {job: cluster.get(job, []) for job in ("chief", "worker")}
        for job, addresses in jobs.items():
            if not isinstance(addresses, list) or not all(isinstance(a, str) and _is_address(a) for a in addresses):
                raise ClusterError(f"TF_CONFIG: cluster.{job} must be a list of 'host:port' strings")
        if len(jobs["chief"]) > 1:
            raise ClusterError("TF_CONFIG: at most one chief")
        ordered = jobs["chief"] + jobs["worker"]
        if not ordered:
            raise ClusterError("TF_CONFIG: the cluster has no workers")
        for address in ordered:
            if ordered.count(address) > 1:
                raise ClusterError(f"TF_CONFIG: names {address} twice; every worker needs its own host:port")
        kind, index = task.get("type"), task.get("index")
        if kind not in jobs or not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(jobs[kind]):
            raise ClusterError(f"TF_CONFIG: task {kind!r} {index!r} is not in the cluster")
        rank = index if kind == "chief" else len(jobs["chief"]) + index
        return cls(workers=len(ordered), index=rank, config=config)

    def connect(self, timeout_s: float = WORKER_TIMEOUT_S) -> Any:
        """The strategy, once every worker is reachable (one all-reduce done), or a `ClusterError`.

        TensorFlow waits for missing peers forever, so a watchdog ends the process (exit 2) past the time-out."""
        import tensorflow as tf

        if self.config is None:
            return tf.distribute.get_strategy()
        with Watchdog(timeout_s, f"worker {self.index}: not every worker was reachable within {timeout_s:.0f} s (--worker-timeout)"):
            try:
                strategy = tf.distribute.MultiWorkerMirroredStrategy()
                strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)
            except (tf.errors.OpError, RuntimeError, ValueError) as exc:
                raise ClusterError(f"worker {self.index}: cannot start or reach its peers ({_first_line(exc)})") from None
        return strategy


class Watchdog:
    """Ends the process with a one-line error (exit 2) when `beat()` has not been called for `timeout_s` seconds.

    Why not TensorFlow's own collective time-out (`CommunicationOptions.timeout_seconds`): it starts a thread per
    collective that sleeps for the whole time-out, and training here runs hundreds of collectives a second (gradients,
    synchronized batch norm): with a 120 s time-out, both workers reached 11,000 threads in 40 s and aborted. A dead
    peer is seen at once anyway (its connection resets); a hung one stops the beats."""

    def __init__(self, timeout_s: float, message: str) -> None:
        self.timeout_s = timeout_s
        self.message = message
        self.last = time.monotonic()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watchdog:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()

    def beat(self) -> None:
        self.last = time.monotonic()

    def _watch(self) -> None:
        while not self.stopped.wait(min(1.0, self.timeout_s / 4)):
            if time.monotonic() - self.last > self.timeout_s:
                # The main thread is blocked inside TensorFlow: print and leave from here.
                print(f"sketch-edge: error: {self.message}", file=sys.stderr, flush=True)
                os._exit(2)


def _is_address(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def free_ports(count: int) -> list[int]:
    """Ports the kernel gives out now, held open together so they differ; a worker still binds a moment later,
    so another program could take one in between: that worker then fails to start and says so."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def launch_local(workers: int, argv: list[str], ports: list[int] | None = None, poll_s: float = 0.2) -> int:
    """Run `sketch-edge <argv>` as `workers` local workers and wait for them all.

    Worker 0 (the chief) prints to this terminal; the others' output goes to files, shown when one fails.
    The first worker to fail stops the others, and its last line is the error."""
    from sketch_edge.isolation import PARENT_ENV

    ports = ports or free_ports(workers)
    addresses = [f"127.0.0.1:{port}" for port in ports]
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="sketch-edge-workers-") as logs:
        for index in range(workers):
            config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
            env = os.environ | {"TF_CONFIG": json.dumps(config), PARENT_ENV: str(os.getpid())}
            err = None if index == 0 else open(Path(logs) / f"worker{index}.log", "w")  # noqa: SIM115 (closed with the process)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sketch_edge", *argv],
                    env=env,
                    stdout=err or None,
                    stderr=subprocess.PIPE if index == 0 else err,
                    text=True,
                    start_new_session=True,
                )
            )
        chief_err: list[str] = []
        reader = threading.Thread(target=_relay, args=(procs[0].stderr, chief_err), daemon=True)
        reader.start()
        try:
            while True:
                codes = [p.poll() for p in procs]
                # A worker killed by a signal is the cause; the others then fail their all-reduce.
                failed = min((i for i, c in enumerate(codes) if c not in (None, 0)), key=lambda i: (codes[i] >= 0, i), default=None)
                if failed is not None:
                    _stop(procs)
                    reader.join(timeout=5)
                    lines = chief_err if failed == 0 else Path(logs, f"worker{failed}.log").read_text(errors="replace").splitlines()
                    raise ClusterError(f"worker {failed} of {workers} failed: {_last_error(lines, codes[failed])}")
                if all(c == 0 for c in codes):
                    reader.join(timeout=5)
                    return 0
                time.sleep(poll_s)
        except KeyboardInterrupt:
            _stop(procs)
            raise


def _relay(stream: Any, lines: list[str]) -> None:
    """The chief's stderr, passed on as it comes (its progress bar), and kept for the error message."""
    for line in stream:
        lines.append(line.rstrip("\n"))
        if not line.startswith("sketch-edge: error:"):  # the launcher's own line names the worker that failed first
            sys.stderr.write(line)


def _last_error(lines: list[str], code: int | None) -> str:
    errors = [line for line in lines if line.startswith("sketch-edge: error:")]
    if errors:
        return errors[-1].removeprefix("sketch-edge: error:").strip()
    rest = [line.strip() for line in lines if line.strip() and not line.startswith(("I0000", "W0000"))]
    if code is not None and code < 0:  # TensorFlow's fatal checks say why on their last line before the abort
        return f"died ({signal.Signals(-code).name})" + (f": {rest[-1][:300]}" if rest else "")
    return rest[-1][:300] if rest else f"exit status {code}"


def _stop(procs: list[subprocess.Popen]) -> None:
    """Terminate every worker still running (its whole session), then kill what is left after 5 s."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
