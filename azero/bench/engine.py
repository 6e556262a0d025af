"""``azero bench engine``: how fast the rules engine is, on one core.

* random playouts on an empty board for each rule: moves per second, where a
  move is the pick, the play, the win check and the upkeep of the empty-point
  list (and, in renju, the forbidden check of black's picks);
* the full-board renju forbidden mask on clustered mid-game positions;
* when PettingZoo is installed, the ``azero.env.gomoku_v0`` environment for
  each rule: random legal moves through the AEC API (``last()`` for the
  observation and mask, ``step()``), with the classic suite's wrappers, as
  an RL library drives it.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from games.constants import RULES
from games.gomoku import Gomoku
from games.playout import count_playout_moves, seed_playouts
from games.randomplay import play_random_nearby
from games.renju import forbidden_mask_into, new_three_stack


@njit(cache=True)
def _masks_loop(boards, size, repeats):
    """Compute the forbidden mask of every board ``repeats`` times; return the total forbidden points."""
    n = size * size
    out = np.zeros(n, dtype=np.bool_)
    near = np.zeros((4, n), dtype=np.int16)
    frames, points = new_three_stack()
    total = 0
    for _ in range(repeats):
        for i in range(boards.shape[0]):
            total += forbidden_mask_into(boards[i], size, out, near, frames, points)
    return total


def midgame_positions(size: int, stones: int, count: int, seed: int) -> np.ndarray:
    """``count`` renju boards with ``stones`` stones, black to move, made by clustered random play."""
    rng = np.random.default_rng(seed)
    boards = []
    while len(boards) < count:
        game = play_random_nearby(Gomoku(size, "renju"), rng, max_moves=stones)
        if not game.is_over and len(game.moves) == stones:
            boards.append(game.board.copy())
    return np.stack(boards)


def _timed(run, seconds: float) -> tuple[float, float]:
    """Call ``run()`` (returns a work count) until ``seconds`` pass; return (work, elapsed)."""
    work = 0.0
    start = time.perf_counter()
    while True:
        work += run()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return work, elapsed


def engine_benchmark(size: int = 15, seconds: float = 2.0, stones: int = 40, seed: int = 0, progress=None) -> dict:
    """Measure the engine; ``progress(message)`` is told what is being measured."""
    report: dict = {"size": size, "seconds_per_measurement": seconds}
    seed_playouts(seed)
    for name, code in RULES.items():
        if progress:
            progress(f"random playouts, {name}")
        count_playout_moves(size, 5, code, 1)  # compile / load from cache outside the timing
        moves, elapsed = _timed(lambda: count_playout_moves(size, 5, code, 200), seconds)
        report[f"{name}_moves_per_s"] = round(moves / elapsed)
    if progress:
        progress(f"renju forbidden masks, {stones}-stone positions")
    boards = midgame_positions(size, stones, 64, seed)
    _masks_loop(boards, size, 1)

    def twenty_passes() -> int:
        _masks_loop(boards, size, 20)
        return boards.shape[0] * 20

    masks, elapsed = _timed(twenty_passes, seconds)
    report["renju_forbidden_masks_per_s"] = round(masks / elapsed)
    report["renju_mask_positions"] = int(boards.shape[0])
    report["renju_mask_stones"] = stones
    report["renju_forbidden_points_per_position"] = round(_masks_loop(boards, size, 1) / boards.shape[0], 2)
    if _has_pettingzoo():
        for name in RULES:
            if progress:
                progress(f"the PettingZoo environment, {name}")
            report[f"pettingzoo_{name}_steps_per_s"] = round(pettingzoo_steps_per_second(size, name, seconds, seed))
    return report


def _has_pettingzoo() -> bool:
    import importlib.util

    return importlib.util.find_spec("pettingzoo") is not None


def pettingzoo_steps_per_second(size: int, rule: str, seconds: float, seed: int = 0) -> float:
    """Moves per second of random legal play through ``gomoku_v0.env()``'s AEC API, games restarted as they end."""
    from azero.env import gomoku_v0

    env = gomoku_v0.env(size=size, rule=rule)
    rng = np.random.default_rng(seed)

    def one_game() -> int:
        env.reset()
        moves = 0
        for _ in env.agent_iter():
            observation, _, termination, truncation, _ = env.last()
            if termination or truncation:
                return moves
            env.step(int(rng.choice(np.flatnonzero(observation["action_mask"]))))
            moves += 1
        return moves

    one_game()  # compile / load the kernels outside the timing
    moves, elapsed = _timed(one_game, seconds)
    env.close()
    return moves / elapsed


def format_report(report: dict) -> str:
    lines = [f"engine benchmark on {report['size']}x{report['size']}, one core"]
    for name in RULES:
        lines.append(f"  random playouts, {name:<9} {report[f'{name}_moves_per_s']:>12,} moves/s")
    lines.append(
        f"  renju forbidden masks      {report['renju_forbidden_masks_per_s']:>12,} masks/s "
        f"({report['renju_mask_stones']}-stone positions, "
        f"{report['renju_forbidden_points_per_position']} forbidden points each on average)"
    )
    for name in RULES:
        key = f"pettingzoo_{name}_steps_per_s"
        if key in report:
            lines.append(f"  PettingZoo env, {name:<10} {report[key]:>12,} steps/s (random legal moves, AEC API)")
    return "\n".join(lines)
