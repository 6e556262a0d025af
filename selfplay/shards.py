"""Replay shards: finished self-play games, compressed, one file per batch of games.

A shard is a ``.npz`` (``numpy.savez_compressed``) read back with
``allow_pickle=False``, so a shard from elsewhere cannot run code.  It
holds the training positions of its games and one row of statistics per
game:

| array | shape | dtype | meaning |
|---|---|---|---|
| boards | [P, N] | int8 | positions before the move (N = size*size) |
| to_move | [P] | int8 | BLACK or WHITE |
| last_move | [P] | int16 | -1 on the empty board |
| policy | [P, N] | float16 | search visit distribution (sums to 1) |
| outcome | [P] | int8 | +1 the side to move won, -1 lost, 0 draw |
| reply | [P] | int16 | the opponent's answer to the move played, -1 if the game ended first (absent before v2: read as -1) |
| game_length, game_winner | [G] | int16, int8 | per game |
| game_resigned, game_resign_checked, game_resign_wrong | [G] | bool | resignation bookkeeping |
| meta | [] | str | JSON: size, rule, n_in_row, worker, checkpoint step |

Files are written to a temporary name and renamed, so a reader never sees
half a shard; names start with a nanosecond time stamp so they sort in the
order they were written.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from games.atomic import atomic_write_bytes

from .engine import GameData

SHARD_SUFFIX = ".npz"


class ShardError(ValueError):
    """A shard that cannot be read or does not fit this run."""


@dataclass
class Shard:
    boards: np.ndarray
    to_move: np.ndarray
    last_move: np.ndarray
    policy: np.ndarray
    outcome: np.ndarray
    reply: np.ndarray
    game_length: np.ndarray
    game_winner: np.ndarray
    game_resigned: np.ndarray
    game_resign_checked: np.ndarray
    game_resign_wrong: np.ndarray
    meta: dict

    @property
    def positions(self) -> int:
        return int(self.outcome.shape[0])

    @property
    def games(self) -> int:
        return int(self.game_length.shape[0])


def shard_from_games(games: list[GameData], meta: dict) -> Shard:
    cells = meta["size"] ** 2
    return Shard(
        boards=np.concatenate([g.boards for g in games]).reshape(-1, cells).astype(np.int8),
        to_move=np.concatenate([g.to_move for g in games]).astype(np.int8),
        last_move=np.concatenate([g.last_move for g in games]).astype(np.int16),
        policy=np.concatenate([g.policy for g in games]).reshape(-1, cells).astype(np.float16),
        outcome=np.concatenate([g.outcome for g in games]).astype(np.int8),
        reply=np.concatenate([g.reply for g in games]).astype(np.int16),
        game_length=np.array([g.length for g in games], dtype=np.int16),
        game_winner=np.array([g.winner for g in games], dtype=np.int8),
        game_resigned=np.array([g.resigned for g in games], dtype=np.bool_),
        game_resign_checked=np.array([g.resign_checked for g in games], dtype=np.bool_),
        game_resign_wrong=np.array([g.would_resign_wrongly for g in games], dtype=np.bool_),
        meta=dict(meta),
    )


def encode_shard(shard: Shard) -> bytes:
    """The shard as the bytes of its file (a compressed ``.npz``, no pickle): sent as is between machines."""
    arrays = {name: getattr(shard, name) for name in Shard.__dataclass_fields__ if name != "meta"}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(shard.meta)), **arrays)
    return buffer.getvalue()


def write_shard_bytes(directory: Path, data: bytes, worker: int) -> Path:
    """Write an encoded shard atomically into ``directory`` under a new name (write time, then worker)."""
    path = Path(directory) / f"{time.time_ns():020d}-w{worker:03d}{SHARD_SUFFIX}"
    atomic_write_bytes(path, data)
    return path


def write_shard(directory: Path, shard: Shard, worker: int) -> Path:
    """Write ``shard`` atomically into ``directory``; return its path."""
    return write_shard_bytes(directory, encode_shard(shard), worker)


def read_shard(path: Path, size: int | None = None) -> Shard:
    """Read and check a shard file (no pickle); ``size`` must match when given."""
    return decode_shard(path, Path(path).name, size)


def decode_shard(source, name: str, size: int | None = None) -> Shard:
    """Read and check a shard from a file path or its bytes; ``name`` is what errors call it."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with np.load(source, allow_pickle=False) as data:
            fields = {field: data[field] for field in Shard.__dataclass_fields__ if field not in ("meta", "reply")}
            # Shards written before the opponent-policy target have no replies: none is known.
            fields["reply"] = data["reply"] if "reply" in data else np.full(fields["outcome"].shape, -1, np.int16)
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ShardError(f"{name}: not a readable shard ({str(error)[:80]})") from None
    shard = Shard(**fields, meta=meta)
    cells = shard.boards.shape[1] if shard.boards.ndim == 2 else -1
    p = shard.positions
    ok = (
        isinstance(meta, dict) and shard.boards.ndim == 2 and shard.policy.shape == (p, cells)
        and shard.boards.shape[0] == p and shard.to_move.shape == (p,) and shard.last_move.shape == (p,)
        and shard.outcome.shape == (p,) and shard.reply.shape == (p,)
        # Values the learner uses as indices (the reply point, the win/draw/loss class) must be in range.
        and bool(np.all((shard.reply >= -1) & (shard.reply < cells))) and bool(np.all(np.abs(shard.outcome) <= 1))
        and (size is None or cells == size * size)
    )
    if not ok:
        raise ShardError(f"{name}: arrays of the wrong shape or out-of-range values for this run")
    return shard


def remove_unfinished_shards(directory: Path, worker: int | None = None) -> int:
    """Delete the temporary files of shard writes that never finished (one worker's, or all); return how many.

    A worker killed between writing a shard's temporary file and renaming it
    leaves one behind; nothing reads it, but over many crashes they pile up.
    Call this only when the writer is known to be dead.
    """
    who = "*" if worker is None else f"*-w{worker:03d}"
    stale = list(Path(directory).glob(f".{who}{SHARD_SUFFIX}.*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def list_shards(directory: Path) -> list[Path]:
    """Finished shards in write order (temporary files of a write in progress are not listed)."""
    return sorted(p for p in Path(directory).glob(f"*{SHARD_SUFFIX}") if not p.name.startswith("."))
