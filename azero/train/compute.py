"""What a training run cost: the machine it ran on, in words, and its seconds before this session.

A shipped checkpoint carries these in its metadata (``extra``), so its
ratings card can say what compute bought its strength without the run
folder, which does not ship.
"""

from __future__ import annotations

import csv
import os
import platform
from pathlib import Path

import torch


def cpu_name() -> str:
    """The processor's model name where the system says it (Linux), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_hardware(device: torch.device, workers: int) -> str:
    """One line: the learner's device and the self-play processes' cores, e.g. '2-core Xeon ..., 2 self-play workers'."""
    cores = os.cpu_count() or 1
    line = f"{cores}-core {cpu_name()}, {workers} self-play worker{'s' if workers != 1 else ''}"
    if device.type == "cuda":
        line = f"{torch.cuda.get_device_name(device)} + {line}"
    elif device.type == "mps":
        line = f"Apple GPU (mps) + {line}"
    return line


def seconds_in_metrics(run_dir: str | Path) -> float:
    """Training seconds recorded by a run's self-play metrics (``elapsed_s`` restarts at each resume).

    For runs whose checkpoints predate ``train_seconds`` in their metadata:
    each session's last ``elapsed_s`` is its length, so the sum over the
    points where it drops is the run's time so far.
    """
    path = Path(run_dir) / "metrics" / "selfplay.csv"
    try:
        with open(path, newline="") as handle:
            values = [float(row["elapsed_s"]) for row in csv.DictReader(handle) if row.get("elapsed_s")]
    except (OSError, ValueError, KeyError):
        return 0.0
    total, previous = 0.0, 0.0
    for value in values:
        if value < previous:
            total += previous
        previous = value
    return total + previous
