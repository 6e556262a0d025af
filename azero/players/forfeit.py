"""What a player answers for a game it cannot make a legal move in (its own module: players and engines share it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Forfeit:
    """A player lost a game without a legal move: ``reason`` is 'illegal', 'timeout', 'crash' or 'resign'."""

    reason: str
    detail: str = ""
