"""A worker for the isolation tests: announces its PID, then sleeps as a hung converter would."""

import json
import os
import sys
import time
from pathlib import Path

from sketch_edge.isolation import die_with_parent

if __name__ == "__main__":
    die_with_parent()
    job = json.loads(Path(sys.argv[1]).read_text())
    Path(job["pid_file"]).write_text(str(os.getpid()))
    time.sleep(60)
