"""Workers run in their own processes and die with the stage that started them, even when it is SIGKILLed."""

import json
import os
import signal
import subprocess
import sys
import time

from sketch_edge.isolation import run_module
from tests.helpers import REPO

PARENT = """
import json, os, signal, sys, threading
from pathlib import Path
from sketch_edge.isolation import run_module
job = Path(sys.argv[1])
threading.Thread(target=run_module, args=("tests.sleeper", job, 120), daemon=True).start()
pid_file = Path(json.loads(job.read_text())["pid_file"])
while not pid_file.exists() or not pid_file.read_text():
    pass
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_a_worker_dies_when_its_stage_is_killed(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"pid_file": str(tmp_path / "pid")}))
    parent = subprocess.run([sys.executable, "-c", PARENT, str(job)], cwd=REPO, timeout=60)
    assert parent.returncode == -signal.SIGKILL
    worker = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived its killed parent"


def test_a_hung_worker_is_a_time_out(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"pid_file": str(tmp_path / "pid")}))
    assert run_module("tests.sleeper", job, 3) == "timed out after 3 s"


def test_every_job_names_a_worker_module_with_the_one_entry_point():
    """One worker protocol: a job record names its module, which has `work(job)` and `main()` (serve)."""
    import importlib
    import inspect

    from sketch_edge.isolation import Job

    for module in ("export.worker", "export.mobile", "export.describe", "arm.worker", "bench.peak", "bench.worker", "tune.candidate"):
        importlib.import_module(f"sketch_edge.{module}")
    jobs = Job.__subclasses__()
    assert len(jobs) == 7
    for job in jobs:
        worker = importlib.import_module(job.WORKER)
        assert callable(worker.work) and callable(worker.main), job.__name__
        assert "serve(" in inspect.getsource(worker.main), job.__name__
