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
from selfplay.engine import GameData

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


# Bounds a shard from anywhere must keep: far above what a worker writes (SHARD_POSITIONS positions, a few
# hundred games), far below what would poison the counters or fill the learner's memory.
MAX_SHARD_POSITIONS = 65_536
MAX_SHARD_GAMES = 16_384
MAX_BOARD_CELLS = 32 * 32
POLICY_SUM_TOLERANCE = 0.02  # a policy is stored in float16: its sum is 1 within rounding
STONES, SIDES, WINNERS = (0, 1, 2), (1, 2), (1, 2, 3)  # EMPTY/BLACK/WHITE; BLACK/WHITE; BLACK/WHITE/DRAW


def decode_shard(source, name: str, size: int | None = None) -> Shard:
    """Read and check a shard from a file path or its bytes; ``name`` is what errors call it.

    Every field is checked, not only those used as indices: one shard with a
    NaN policy would train the network into NaN, one with a million empty
    games would poison the counters, and a small file may expand to gigabytes.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    cells_bound = size * size if size is not None else MAX_BOARD_CELLS
    try:
        with np.load(source, allow_pickle=False) as data:
            # Sizes first, from the archive's directory: nothing is decompressed before it is known to fit.
            expanded = sum(info.file_size for info in data.zip.infolist())
            if expanded > MAX_SHARD_POSITIONS * (3 * cells_bound + 8) + MAX_SHARD_GAMES * 8 + (1 << 20):
                raise ShardError(f"{name}: too large ({expanded:,} bytes unpacked; a shard holds at most "
                                 f"{MAX_SHARD_POSITIONS:,} positions)")
            fields = {field: data[field] for field in Shard.__dataclass_fields__ if field not in ("meta", "reply")}
            # Shards written before the opponent-policy target have no replies: none is known.
            fields["reply"] = data["reply"] if "reply" in data else np.full(fields["outcome"].shape, -1, np.int16)
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        if isinstance(error, ShardError):
            raise
        raise ShardError(f"{name}: not a readable shard ({str(error)[:80]})") from None
    shard = Shard(**fields, meta=meta)
    why = _shape_problem(shard, size) or _value_problem(shard)
    if why is not None:
        raise ShardError(f"{name}: {why}")
    return shard


def _shape_problem(shard: Shard, size: int | None) -> str | None:
    """Why the arrays do not fit together or this run, or None."""
    if not isinstance(shard.meta, dict):
        return "its meta is not a mapping"
    if shard.boards.ndim != 2 or shard.policy.ndim != 2:
        return "arrays of the wrong shape"
    p, cells = shard.boards.shape
    games = shard.game_length.shape
    if size is not None and cells != size * size:
        return f"positions of {cells} points, not {size}x{size}"
    if not 0 < cells <= MAX_BOARD_CELLS or p > MAX_SHARD_POSITIONS or games[0] > MAX_SHARD_GAMES:
        return f"too large ({p:,} positions, {games[0]:,} games; at most {MAX_SHARD_POSITIONS:,} and {MAX_SHARD_GAMES:,})"
    if shard.policy.shape != (p, cells) or any(a.shape != (p,) for a in (
            shard.to_move, shard.last_move, shard.outcome, shard.reply)):
        return "position arrays of different lengths"
    if len(games) != 1 or any(a.shape != games for a in (
            shard.game_winner, shard.game_resigned, shard.game_resign_checked, shard.game_resign_wrong)):
        return "game arrays of different lengths"
    return None


def _value_problem(shard: Shard) -> str | None:
    """Why some value is impossible, or None (shapes already checked)."""
    p, cells = shard.boards.shape
    policy = shard.policy.astype(np.float32)
    sums = policy.sum(axis=1)
    checks = (
        (np.isin(shard.boards, STONES).all(), "a stone value other than empty, black or white"),
        (np.isin(shard.to_move, SIDES).all(), "a side to move other than black or white"),
        (np.isfinite(policy).all() and (policy >= 0).all(), "a policy with NaN, infinite or negative values"),
        ((np.abs(sums - 1.0) <= POLICY_SUM_TOLERANCE).all(), "a policy that does not sum to 1"),
        (np.isin(shard.outcome, (-1, 0, 1)).all(), "an outcome other than -1, 0 or 1"),
        (((shard.reply >= -1) & (shard.reply < cells)).all(), "a reply off the board"),
        (((shard.last_move >= -1) & (shard.last_move < cells)).all(), "a last move off the board"),
        (np.isin(shard.game_winner, WINNERS).all(), "a winner other than black, white or a draw"),
        (((shard.game_length >= 1) & (shard.game_length <= cells)).all(), "a game length off the board's range"),
    )
    for ok, why in checks:
        if not ok:
            return why
    played = shard.last_move >= 0
    if played.any():
        # The last move's stone is on the board, and it is the opponent's of the side to move.
        rows = np.flatnonzero(played)
        stones = shard.boards[rows, shard.last_move[rows].astype(np.int64)]
        if not (stones == 3 - shard.to_move[rows]).all():
            return "a last move that is not the opponent's stone"
    return None


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
