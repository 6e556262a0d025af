"""A training run's folder: where its config, checkpoints, shards and trainer state live.

``runs/NAME/`` holds ``config.toml`` (the recipe; a resumed run must keep
its game and net), ``checkpoints/step-NNNNNNNN.safetensors`` with
``checkpoints/latest.json`` naming the newest one the workers should play,
``shards/`` (self-play games, selfplay.shards) and
``trainer_state.safetensors`` (the optimizer, so a resume loses nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

from azero.train.config import ConfigError, TrainConfig, load_file
from games.atomic import atomic_write_text


class RunFolder:
    """Paths inside a run folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.config = self.root / "config.toml"
        self.checkpoints = self.root / "checkpoints"
        self.shards = self.root / "shards"
        self.trainer_state = self.root / "trainer_state.safetensors"

    def create(self) -> None:
        for path in (self.root, self.checkpoints, self.shards):
            path.mkdir(parents=True, exist_ok=True)

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step-{step:08d}.safetensors"

    def publish(self, step: int) -> None:
        atomic_write_text(self.checkpoints / "latest.json", json.dumps({"step": step, "file": self.checkpoint(step).name}) + "\n")


def check_resumable(folder: RunFolder, config: TrainConfig) -> None:
    """A run folder may be resumed with other limits or rates, not with another game or net."""
    if not folder.config.exists():
        return
    saved = load_file(folder.config)
    for section in ("game", "net"):
        if getattr(saved, section) != getattr(config, section):
            raise ConfigError(
                f"{folder.root} holds a run with other {section} settings ({getattr(saved, section)} there, "
                f"{getattr(config, section)} asked for); use another --run folder or the same settings")
