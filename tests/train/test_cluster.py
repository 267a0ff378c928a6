"""TF_CONFIG, local worker launches, and what happens when a worker cannot start, cannot reach its peers, or dies."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sketch_edge.errors import ClusterError
from sketch_edge.train.cluster import Cluster, free_ports, launch_local

REPO = Path(__file__).resolve().parents[2]


def _config(workers, index, kind="worker", chief=None):
    cluster = {"worker": workers} | ({"chief": chief} if chief else {})
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


def test_single_process_without_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert Cluster.from_env() == Cluster(1, 0, None) and Cluster.from_env().is_chief


def test_ranks_put_the_chief_first():
    workers = ["h1:1000", "h2:1000"]
    assert Cluster.parse(_config(workers, 1)).index == 1 and Cluster.parse(_config(workers, 0)).is_chief
    with_chief = Cluster.parse(_config(workers, 0, chief=["h0:1000"]))
    assert (with_chief.workers, with_chief.index, with_chief.is_chief) == (3, 1, False)
    assert Cluster.parse(_config(workers, 0, kind="chief", chief=["h0:1000"])).is_chief


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "TF_CONFIG: not JSON"),
        ("[1, 2]", "TF_CONFIG: needs"),
        (json.dumps({"cluster": {"worker": ["a:1"]}}), "TF_CONFIG: needs"),
        (_config(["a:1", "a:1"], 0), "TF_CONFIG: names a:1 twice"),
        (_config(["a:1", "b:1"], 2), "TF_CONFIG: task 'worker' 2 is not in the cluster"),
        (_config(["a:1"], True), "TF_CONFIG: task 'worker' True is not in the cluster"),
        (_config(["a:1"], 0, kind="ps"), "TF_CONFIG: task 'ps' 0 is not in the cluster"),
        (_config(["a"], 0), "cluster.worker must be a list of 'host:port' strings"),
        (_config(["a:99999"], 0), "cluster.worker must be a list of 'host:port' strings"),
        (json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}), "job 'ps' is not used"),
        (json.dumps({"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}), "the cluster has no workers"),
        ("[" * 100_000, "TF_CONFIG: not JSON"),
    ],
)
def test_bad_tf_config_is_one_line(text, message):
    with pytest.raises(ClusterError, match=message):
        Cluster.parse(text)


def test_free_ports_differ_and_are_free():
    ports = free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_cli_refuses_workers_and_tf_config_together(tmp_path):
    env = os.environ | {"TF_CONFIG": _config(["127.0.0.1:1", "127.0.0.1:2"], 0)}
    proc = subprocess.run(
        [sys.executable, "-m", "sketch_edge", "train", "--workers", "2", "--out", str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and "give either --workers (local workers) or TF_CONFIG (a cluster), not both" in proc.stderr


def test_cli_refuses_more_workers_than_files(bitmap_folder, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sketch_edge", "train", "--data", str(bitmap_folder), "--workers", "3", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "2 file(s) for 3 workers; each worker reads its own files" in proc.stderr


def test_a_failing_worker_is_named_and_the_launch_fails(tmp_path):
    with pytest.raises(ClusterError, match=r"worker [01] of 2 failed: .*missing: unknown data source"):
        launch_local(2, ["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])


def _wait_for_an_epoch(proc):
    """The chief logs each epoch on stdout: once one is there, both workers are training."""
    for line in proc.stdout:
        if "epoch" in line:
            return
    raise AssertionError(f"training ended before an epoch was logged: {proc.stderr.read()[-2000:]}")


def _children(pid):
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_others_with_one_line(tmp_path):
    """Kill worker 1 once training runs: the launcher stops worker 0 and exits 2 naming worker 1, leaving no process."""
    args = ["train", "--classes", "circle,star", "--per-class", "2000", "--model", "cnn-seed", "--epochs", "50", "--out", str(tmp_path)]
    command = [sys.executable, "-m", "sketch_edge", *args, "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_an_epoch(proc)
    workers = _children(proc.pid)
    assert len(workers) == 2
    os.kill(workers[1], signal.SIGKILL)
    started = time.monotonic()
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 2 and time.monotonic() - started < 30
    assert "sketch-edge: error: worker 1 of 2 failed: died (SIGKILL)" in rest and rest.count("sketch-edge: error:") == 1
    assert not any(_alive(pid) for pid in workers) and not (tmp_path / "model.keras").exists()


@pytest.mark.slow
def test_cluster_workers_without_a_launcher_stop_when_a_peer_dies(tmp_path):
    """A real cluster has no launcher: the surviving worker's all-reduce fails, and it exits 2 with one line."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    args = ["train", "--classes", "circle,star", "--per-class", "2000", "--model", "cnn-seed", "--epochs", "50", "--out", str(tmp_path)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sketch_edge", *args, "--worker-timeout", "30"],
            env=os.environ | {"TF_CONFIG": _config(addresses, i)},
            stdout=subprocess.PIPE if i == 0 else subprocess.DEVNULL,
            stderr=subprocess.PIPE if i == 0 else subprocess.DEVNULL,
            text=True,
        )
        for i in range(2)
    ]
    _wait_for_an_epoch(procs[0])
    procs[1].kill()
    rest = procs[0].communicate(timeout=90)[1]
    assert procs[0].returncode == 2
    errors = [line for line in rest.splitlines() if line.startswith("sketch-edge: error:")]
    assert len(errors) == 1 and "lost the other workers during training" in errors[0]


def _chief_alone(addresses, out, timeout_s):
    """Worker 0 of `addresses` started on its own: the others never come."""
    return subprocess.run(
        [sys.executable, "-m", "sketch_edge", "train", "--per-class", "20", "--worker-timeout", str(timeout_s), "--out", str(out)],
        env=os.environ | {"TF_CONFIG": _config(addresses, 0)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_peer_that_never_comes_ends_the_wait(tmp_path):
    started = time.monotonic()
    proc = _chief_alone([f"127.0.0.1:{port}" for port in free_ports(2)], tmp_path, 5)
    assert proc.returncode == 2 and time.monotonic() - started < 60
    assert "sketch-edge: error: worker 0: not every worker was reachable within 5 s; a peer is missing or hangs" in proc.stderr
    assert proc.stderr.count("sketch-edge: error:") == 1
    assert not (tmp_path / "model.keras").exists()


@pytest.mark.slow
def test_a_port_already_taken_is_one_line(tmp_path):
    """Another program holds this worker's port: it cannot serve its peers, and says so within the time-out."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = _chief_alone([f"127.0.0.1:{taken.getsockname()[1]}", f"127.0.0.1:{free_ports(1)[0]}"], tmp_path, 10)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("sketch-edge: error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-2000:]
    assert "worker 0: " in errors[0]
