"""Elo ratings by maximum likelihood from game results (Bradley-Terry, draws as half points).

The model is Elo's: a player rated ``d`` points above another is expected
to score ``1 / (1 + 10 ** (-d / 400))`` against it.  A draw counts as half
a win and half a loss, as Ordo does by default.  Ratings are fitted by
Newton's method on the log-likelihood with one player (the anchor) held at
a fixed rating; the 95% intervals come from the inverse of the Fisher
information (the curvature of the log-likelihood at its maximum), so they
are the uncertainty of each rating *relative to the anchor*.

A player who won (or lost) every game has no finite maximum; like
BayesElo, every pair of players who met gets ``prior_draws`` virtual draws
between them, which keeps ratings finite, moves them very little once real
games pile up, and (unlike a prior towards a fixed rating) leaves the
differences between players the same whichever player is the anchor.  A
whisper of a prior towards the anchor's rating (``ISOLATED_PRIOR_DRAWS``)
only gives a rating to players with no chain of games to the anchor; their
intervals come out very wide, as they should.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ELO_SCALE = 400.0 / math.log(10.0)  # rating points per unit of the logistic's argument
Z_95 = 1.959964
DEFAULT_ANCHOR = "heuristic"  # the reference held fixed: the same on every machine, never changes
DEFAULT_ANCHOR_ELO = 0.0
ISOLATED_PRIOR_DRAWS = 1e-3  # virtual draws of each player against the anchor's rating (see the docstring)


@dataclass
class Rating:
    player: str
    elo: float
    low: float  # 95% interval
    high: float
    games: int
    score: float  # points per game: win 1, draw 1/2
    wins: int
    draws: int
    losses: int


def expected_score(elo_difference: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo_difference / 400.0))


def fit_ratings(results: list[tuple[str, str, float]], anchor: str, anchor_elo: float = 0.0,
                prior_draws: float = 2.0, iterations: int = 100) -> list[Rating]:
    """Ratings from ``(player, opponent, score)`` rows (score 1 win, 0.5 draw, 0 loss for ``player``).

    ``anchor`` must have played; players without a path of games to the
    anchor are still rated (through the prior) but with wide intervals.
    Returns ratings sorted from the strongest.
    """
    players = sorted({p for row in results for p in row[:2]})
    if anchor not in players:
        raise ValueError(f"the anchor {anchor!r} has played no game; players are {', '.join(players) or 'none'}")
    index = {p: i for i, p in enumerate(players)}
    n = len(players)
    games = np.zeros((n, n))  # games between i and j (symmetric)
    points = np.zeros((n, n))  # points i scored against j
    tally = {p: [0, 0, 0] for p in players}
    for player, opponent, score in results:
        if player == opponent:
            raise ValueError(f"{player!r} cannot play itself")
        if score not in (0.0, 0.5, 1.0):
            raise ValueError(f"a score is 0, 0.5 or 1, got {score!r}")
        i, j = index[player], index[opponent]
        games[i, j] += 1
        games[j, i] += 1
        points[i, j] += score
        points[j, i] += 1.0 - score
        outcome = {1.0: 0, 0.5: 1, 0.0: 2}[score]
        tally[player][outcome] += 1
        tally[opponent][2 - outcome] += 1
    a = index[anchor]
    free = [i for i in range(n) if i != a]
    theta = np.zeros(n)  # ratings in logistic units, anchor at 0

    met = (games > 0).astype(float)
    prior_games = games + prior_draws * met  # BayesElo's virtual draws between players who met
    prior_points = points + 0.5 * prior_draws * met

    def gradient_and_information(theta):
        diff = theta[:, None] - theta[None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        grad = (prior_points - prior_games * p).sum(axis=1)
        weight = prior_games * p * (1.0 - p)
        info = -weight
        np.fill_diagonal(info, weight.sum(axis=1))
        q = 1.0 / (1.0 + np.exp(-theta))  # the whisper towards the anchor's rating (0)
        grad += ISOLATED_PRIOR_DRAWS * (0.5 - q)
        info[np.diag_indices(n)] += ISOLATED_PRIOR_DRAWS * q * (1.0 - q)
        return grad, info

    for _ in range(iterations):
        grad, info = gradient_and_information(theta)
        step = np.linalg.solve(info[np.ix_(free, free)], grad[free])
        theta[free] += np.clip(step, -2.0, 2.0)  # damped: early steps can overshoot wildly
        if np.max(np.abs(step)) < 1e-9:
            break
    _, info = gradient_and_information(theta)
    covariance = np.linalg.inv(info[np.ix_(free, free)])
    sigma = np.zeros(n)
    sigma[free] = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    ratings = []
    for p in players:
        i = index[p]
        elo = anchor_elo + ELO_SCALE * theta[i]
        half = Z_95 * ELO_SCALE * sigma[i]
        w, d, l = tally[p]
        total = w + d + l
        ratings.append(Rating(p, elo, elo - half, elo + half, total, (w + 0.5 * d) / total if total else 0.0, w, d, l))
    ratings.sort(key=lambda r: -r.elo)
    return ratings


def format_table(ratings: list[Rating], anchor: str) -> str:
    """A fixed-width table, the player column as wide as the longest name (up to 60 characters)."""
    names = [r.player + (" (anchor)" if r.player == anchor else "") for r in ratings]
    width = min(max([len("player")] + [len(n) for n in names]), 60)
    lines = [f"{'player':<{width}} {'elo':>7} {'95% interval':>17} {'games':>6} {'score':>6}   w/d/l"]
    for r, name in zip(ratings, names):
        interval = "fixed" if r.player == anchor else f"{r.low:7.0f} .. {r.high:.0f}"
        lines.append(f"{name[:width]:<{width}} {r.elo:7.0f} {interval:>17} {r.games:6d} {r.score:6.3f}   "
                     f"{r.wins}/{r.draws}/{r.losses}")
    return "\n".join(lines)
