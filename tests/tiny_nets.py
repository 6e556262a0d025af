"""Randomly initialised networks small enough to evaluate in microseconds, saved as real checkpoints."""

from pathlib import Path

import torch

from azero.model.checkpoint import CheckpointInfo, save_checkpoint
from azero.model.network import NetConfig, PolicyValueNet

TINY = dict(blocks=1, channels=8, global_pool_every=1, head_channels=4, value_hidden=8)


def tiny_checkpoint(path: Path, size: int = 7, n_in_row: int = 4, seed: int = 0, step: int = 0,
                    rule: str = "freestyle") -> Path:
    torch.manual_seed(seed)
    config = NetConfig(**TINY)
    net = PolicyValueNet(config)
    info = CheckpointInfo(rule=rule, size=size, n_in_row=n_in_row, net=config.to_dict(), step=step)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, net, info)
    return path
