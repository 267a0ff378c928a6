"""Which worker this process is (TF_CONFIG), the strategy it trains under, and local multi-worker launches.

A real cluster sets `TF_CONFIG` on every host and starts `sketch-edge train` on
each; `sketch-edge train --workers N` does that on this machine, with N worker
processes on free 127.0.0.1 ports. A peer that never comes, hangs or dies must
end the run with a one-line error, not a hang: every worker runs under a
supervisor process (the launcher, or for a cluster member its own `sketch-edge
train`) that stops it when its heartbeat stops for `--worker-timeout` seconds
while it connects or trains, and stops every worker when one fails; a dead peer's
connection resets at once.
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

from sketch_edge.errors import ClusterError, first_line

HEARTBEAT_ENV = "SKETCH_EDGE_HEARTBEAT"
WORKER_TIMEOUT_S = 120.0
"""How long a worker waits for its peers: to start, and between two steps (a step takes well under a second here;
the first includes tracing and, for a small source, reading it into the cache; an epoch's end, the validation)."""


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

    def connect(self) -> Any:
        """The strategy, once every worker is reachable (one all-reduce done), or a `ClusterError`.

        TensorFlow waits for missing peers forever, holding the interpreter, so no thread of this process can time it
        out: the supervisor that started it does (`supervise`), from the heartbeat it stops getting."""
        import tensorflow as tf

        if self.config is None:
            return tf.distribute.get_strategy()
        try:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
            strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)
        except (tf.errors.OpError, RuntimeError, ValueError) as exc:
            raise ClusterError(f"worker {self.index}: cannot start or reach its peers ({first_line(exc)[:300]})") from None
        return strategy


class Heartbeat:
    """What a worker does to say it is alive: touch a file (at most once a second) that its supervisor watches,
    writing its phase ("connecting", "training") into it when the phase changes."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.phase = ""
        self.last = 0.0

    @classmethod
    def from_env(cls) -> Heartbeat:
        return cls(os.environ.get(HEARTBEAT_ENV))

    def beat(self, phase: str = "training") -> None:
        now = time.monotonic()
        if self.path is None or (phase == self.phase and now - self.last < 1.0):
            return
        if phase != self.phase:
            Path(self.path).write_text(phase)
            self.phase = phase
        os.utime(self.path)
        self.last = now


def _is_address(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


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


def launch_local(workers: int, argv: list[str], timeout_s: float = WORKER_TIMEOUT_S) -> int:
    """Run `sketch-edge <argv>` as `workers` local workers on free 127.0.0.1 ports, supervised."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    configs = [{"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}} for i in range(workers)]
    return supervise(argv, [json.dumps(c) for c in configs], timeout_s)


def supervise(argv: list[str], configs: list[str], timeout_s: float, poll_s: float = 0.2) -> int:
    """Run `sketch-edge <argv>` once per TF_CONFIG in `configs` and wait for them all; the exit status.

    A worker that stops beating for `timeout_s` (once it has begun to connect) is stopped with the others and named
    in a `ClusterError`; so is the first to fail. With one worker (a cluster member started by hand) its output and
    its own error pass straight through; with several, worker 0 (the chief) prints here, the others to files."""
    from sketch_edge.isolation import PARENT_ENV

    procs: list[subprocess.Popen] = []
    alone = len(configs) == 1
    with tempfile.TemporaryDirectory(prefix="sketch-edge-workers-") as work:
        beats = [Path(work, f"worker{i}.beat") for i in range(len(configs))]
        for i, config in enumerate(configs):
            beats[i].write_text("")
            os.utime(beats[i], (0, 0))  # not beating yet: its own start-up (imports, reading) is not timed
            env = os.environ | {"TF_CONFIG": config, PARENT_ENV: str(os.getpid()), HEARTBEAT_ENV: str(beats[i])}
            log = None if i == 0 else open(Path(work, f"worker{i}.log"), "w")
            stderr = None if alone else subprocess.PIPE if i == 0 else log
            command = [sys.executable, "-m", "sketch_edge", *argv]
            procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=stderr, text=True, start_new_session=True))
        chief_err: list[str] = []
        reader = None if alone else threading.Thread(target=_relay, args=(procs[0].stderr, chief_err), daemon=True)
        if reader:
            reader.start()
        first = Cluster.parse(configs[0]).index if alone else 0
        try:
            while True:
                codes = [p.poll() for p in procs]
                ended = {i: c for i, c in enumerate(codes) if c is not None and c != 0}
                # A worker killed by a signal is the cause; the others then fail their all-reduce.
                failed = min(ended, key=lambda i: (ended[i] >= 0, i), default=None)
                if failed is not None:
                    _stop(procs)
                    if alone and ended[failed] > 0:
                        return ended[failed]  # it printed its own one-line error
                    if reader:
                        reader.join(timeout=5)
                    lines = chief_err if failed == 0 else Path(work, f"worker{failed}.log").read_text(errors="replace").splitlines()
                    raise ClusterError(f"worker {first + failed} of {len(configs)} failed: {_last_error(lines, codes[failed])}")
                if all(c == 0 for c in codes):
                    if reader:
                        reader.join(timeout=5)
                    return 0
                silent = next((i for i, b in enumerate(beats) if 0 < b.stat().st_mtime < time.time() - timeout_s), None)
                if silent is not None:
                    _stop(procs)
                    waiting = "not every worker was reachable" if beats[silent].read_text() == "connecting" else "no step finished"
                    raise ClusterError(
                        f"worker {first + silent}: {waiting} within {timeout_s:.0f} s; a peer is missing or hangs (--worker-timeout)"
                    )
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
