"""Exporters that fail the way real converters do, for the stage's crash and time-out paths."""

import os
import signal
import time


def export_segfault(model, out, *, input_spec, recipe, calibration, float_layers=()):
    os.kill(os.getpid(), signal.SIGSEGV)


def export_hang(model, out, *, input_spec, recipe, calibration, float_layers=()):
    time.sleep(600)
