"""Openings for tournaments: short, different, roughly balanced starts near the centre.

Every opening is played twice with colours swapped (as Gomocup and engine
testers do), so a lopsided opening costs nothing in fairness; openings are
still filtered for balance so that both games of a pair say something about
strength rather than about the opening.  The balance test is a short pure
Monte-Carlo search (no network, so it is the same for every checkpoint and
machine): the side to move must score between ``BALANCE_LOW`` and
``BALANCE_HIGH``.

Generation is sequential and seeded, so the first ``k`` openings of a set are
the same whatever ``count`` is asked: a tournament can grow without its
earlier games changing meaning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from games import coords
from games.constants import ONGOING
from games.gomoku import Gomoku
from games.randomplay import nearby_candidates

BALANCE_PLAYOUTS = 1500
BALANCE_LOW, BALANCE_HIGH = 0.3, 0.7
MAX_TRIES_PER_OPENING = 40


def default_opening_moves(size: int) -> int:
    """Stones in an opening: 2 on small boards (where every stone matters), 3 from 13x13 up (as Gomocup does)."""
    return 2 if size < 13 else 3


def random_opening(size: int, rule: str, n_in_row: int, moves: int, rng: np.random.Generator) -> Gomoku:
    """``moves`` random stones, the first in the board's central third, each next one touching a stone."""
    game = Gomoku(size, rule, n_in_row)
    low, high = size // 3, size - size // 3
    if moves > 0:
        game.play(int(rng.integers(low, high)) * size + int(rng.integers(low, high)))
    while len(game.moves) < moves and game.winner == ONGOING:
        game.play(int(rng.choice(nearby_candidates(game, 1))))
    return game


def side_to_move_score(moves: list[int], size: int, rule: str, n_in_row: int, seed: int) -> float:
    """Expected score of the side to move after ``moves``: the value of its best (most searched) move.

    The best move's value, not the visit-weighted mean over all moves: the
    mean dilutes a won position with the poor moves the search also tried.
    """
    from azero.search.pure_mcts import PureMCTS

    game = Gomoku.from_moves(moves, size, rule, n_in_row)
    counts, values = PureMCTS(BALANCE_PLAYOUTS, seed=seed).search(game)
    return float(values[int(np.argmax(counts))]) if counts.sum() else 0.5


def balanced_openings(size: int, rule: str, n_in_row: int, count: int, moves: int, seed: int = 0) -> list[list[int]]:
    """``count`` different openings whose side to move scores within [BALANCE_LOW, BALANCE_HIGH].

    If the board is too small to find enough balanced ones, the others fill
    the set in the order they were made (an opening pair is fair either way).
    """
    rng = np.random.default_rng(seed)
    chosen: list[list[int]] = []
    spare: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for attempt in range(max(count, 1) * MAX_TRIES_PER_OPENING):
        if len(chosen) == count:
            break
        game = random_opening(size, rule, n_in_row, moves, rng)
        key = tuple(game.moves)
        if key in seen or game.winner != ONGOING:
            continue
        seen.add(key)
        score = side_to_move_score(game.moves, size, rule, n_in_row, seed=seed * 1_000_003 + attempt)
        if BALANCE_LOW <= score <= BALANCE_HIGH:
            chosen.append(list(game.moves))
        else:
            spare.append(list(game.moves))
    chosen.extend(spare[: count - len(chosen)])
    return chosen


def openings_to_text(opening: list[int], size: int) -> str:
    """An opening as people write it: ``h8 i9 j8``."""
    return " ".join(coords.to_notation(move, size) for move in opening)


def openings_from_file(path, size: int, rule: str, n_in_row: int) -> list[list[int]]:
    """Openings from a text file, one per line in Gomoku notation (``h8 i9 j8``); ``#`` starts a comment."""
    openings = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text file of openings (one per line, like 'h8 i9 j8')") from None
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].replace(",", " ").split()
        if not text:
            continue
        try:
            game = Gomoku.from_moves([coords.from_notation(t, size) for t in text], size, rule, n_in_row)
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error}") from None
        if game.winner != ONGOING:
            raise ValueError(f"{path}, line {number}: the opening already ends the game")
        openings.append(list(game.moves))
    if not openings:
        raise ValueError(f"{path} holds no openings (one per line, like 'h8 i9 j8')")
    return openings
