"""Bench stage: every `ok` artifact of the manifest on every CPU runtime that runs it.

`stage.py` plans cells (artifact x runtime x threads x batch) and runs each in a
fresh subprocess (`worker.py`); `timing.py` is the one timing loop; `peak.py`
measures this machine's GEMM peaks; `report.py` writes the table, JSON, CSV,
Markdown and plots.
"""
