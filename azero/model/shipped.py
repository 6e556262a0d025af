"""The networks that ship in ``checkpoints/``: which one plays which game, and the arena that rated them.

Read by the window (its default opponent), the ratings card and the level
ratings; the files themselves are ordinary checkpoints (azero.model.checkpoint).
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
# The shipped checkpoints, in the order the window offers them; the first that exists is the default.
SHIPPED = {("freestyle", 15): "gomoku15", ("renju", 15): "renju15", ("freestyle", 9): "gomoku9",
           ("freestyle", 8): "gomoku8"}
SHIPPED_DB = SHIPPED_DIR / "arena.sqlite"  # the games that rated them (checkpoints/RATINGS.md)


def shipped_checkpoint(rule: str, size: int) -> Path | None:
    """The shipped network for ``rule`` on a ``size`` board, if it is there."""
    name = SHIPPED.get((rule, size))
    path = SHIPPED_DIR / f"{name}.safetensors" if name else None
    return path if path is not None and path.is_file() else None
