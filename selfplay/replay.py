"""The learner's sliding window of recent positions, sampled with the 8 board symmetries.

Positions are kept compactly (int8 boards, float16 policies) in a ring
buffer; a sample is encoded to planes on the fly, then each position gets
one of the 8 rotations/reflections of the square, applied to the planes
and the policy alike (Gomoku's rules do not change under them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from azero.model.planes import NUM_PLANES, encode_into
from games.constants import RENJU
from games.renju import forbidden_mask_into, new_three_stack
from selfplay.shards import Shard


@njit(cache=True)
def encode_batch(boards, to_move, last_move, indices, size, rule, out):
    """Encode the positions ``indices`` of the window into ``out`` [B, NUM_PLANES, S, S]."""
    cells = size * size
    forbidden = np.zeros(cells, dtype=np.bool_)
    near = np.zeros((4, cells), dtype=np.int16)
    frames, points = new_three_stack()
    board = np.empty(cells, dtype=np.int8)
    for b in range(indices.shape[0]):
        i = indices[b]
        for p in range(cells):
            board[p] = boards[i, p]
        if rule == RENJU:
            forbidden_mask_into(board, size, forbidden, near, frames, points)
        encode_into(board, size, to_move[i], last_move[i], forbidden, out[b])


def apply_symmetry(planes: np.ndarray, policy: np.ndarray, symmetry: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetry 0-7 (k quarter turns, then a mirror if >= 4) of planes [B, C, S, S] and policy [B, S*S]."""
    size = planes.shape[-1]
    grid = policy.reshape(-1, size, size)
    k = symmetry % 4
    planes = np.rot90(planes, k, axes=(2, 3))
    grid = np.rot90(grid, k, axes=(1, 2))
    if symmetry >= 4:
        planes = planes[:, :, :, ::-1]
        grid = grid[:, :, ::-1]
    return np.ascontiguousarray(planes), np.ascontiguousarray(grid.reshape(-1, size * size))


@lru_cache(maxsize=None)
def symmetry_permutations(size: int) -> np.ndarray:
    """``[8, S*S]``: where each point goes under each symmetry, the same map :func:`apply_symmetry` applies to a policy."""
    cells = size * size
    points = np.arange(cells, dtype=np.float32)[None]  # a "policy" whose value at each point is its index
    table = np.empty((8, cells), dtype=np.int64)
    for s in range(8):
        _, moved = apply_symmetry(np.zeros((1, 1, size, size), np.float32), points, s)
        table[s, moved[0].astype(np.int64)] = np.arange(cells)  # moved[new] = old, so old -> new
    return table


@dataclass
class TrainingBatch:
    planes: np.ndarray  # float32 [B, C, S, S]
    policy: np.ndarray  # float32 [B, S*S]: the search's visit distribution
    value: np.ndarray  # float32 [B]: +1 the side to move won, -1 lost, 0 draw
    reply: np.ndarray  # int64 [B]: the opponent's answer (a point, after the same symmetry), -1 if none


class ReplayWindow:
    """The most recent ``capacity`` positions of a run."""

    def __init__(self, capacity: int, size: int, rule_code: int):
        self.capacity, self.size, self.rule_code = capacity, size, rule_code
        cells = size * size
        self.boards = np.zeros((capacity, cells), dtype=np.int8)
        self.to_move = np.zeros(capacity, dtype=np.int8)
        self.last_move = np.zeros(capacity, dtype=np.int16)
        self.policy = np.zeros((capacity, cells), dtype=np.float16)
        self.outcome = np.zeros(capacity, dtype=np.int8)
        self.reply = np.zeros(capacity, dtype=np.int16)
        self.count = 0  # positions held
        self.next = 0  # where the next position goes
        self.added = 0  # positions ever added

    def __len__(self) -> int:
        return self.count

    def add(self, shard: Shard) -> None:
        self.added += shard.positions
        keep = min(shard.positions, self.capacity)  # a shard larger than the window: only its newest positions fit
        idx = (self.next + np.arange(keep)) % self.capacity
        for name in ("boards", "to_move", "last_move", "policy", "outcome", "reply"):
            getattr(self, name)[idx] = getattr(shard, name)[shard.positions - keep:]
        self.next = int((self.next + keep) % self.capacity)
        self.count = min(self.capacity, self.count + keep)

    def sample(self, batch: int, rng: np.random.Generator) -> TrainingBatch:
        """``batch`` random positions, each under a random symmetry."""
        if self.count == 0:
            raise ValueError("the replay window is empty")
        indices = rng.integers(0, self.count, size=batch)
        planes = np.empty((batch, NUM_PLANES, self.size, self.size), dtype=np.float32)
        encode_batch(self.boards, self.to_move, self.last_move, indices, self.size, self.rule_code, planes)
        policy = self.policy[indices].astype(np.float32)
        reply = self.reply[indices].astype(np.int64)
        symmetries = rng.integers(0, 8, size=batch)
        for s in range(8):
            chosen = np.nonzero(symmetries == s)[0]
            if chosen.size:
                planes[chosen], policy[chosen] = apply_symmetry(planes[chosen], policy[chosen], s)
        known = reply >= 0
        reply[known] = symmetry_permutations(self.size)[symmetries[known], reply[known]]
        return TrainingBatch(planes, policy, self.outcome[indices].astype(np.float32), reply)
