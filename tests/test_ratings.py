"""The Elo fit recovers known ratings from simulated games, within its intervals."""

import numpy as np
import pytest

from azero.arena.ratings import expected_score, fit_ratings, format_table

TRUE = {"anchor": 0.0, "weak": -250.0, "mid": 120.0, "strong": 400.0, "best": 650.0}


def simulate(games_per_pair: int, seed: int, draw_rate: float = 0.1):
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p = expected_score(TRUE[a] - TRUE[b])
            # Draws where the expected score allows them: win p - d/2, draw d, loss 1 - p - d/2 keeps the mean at p.
            d = min(draw_rate, 2 * min(p, 1 - p))
            for _ in range(games_per_pair):
                u = rng.random()
                rows.append((a, b, 1.0 if u < p - d / 2 else (0.5 if u < p + d / 2 else 0.0)))
    return rows


def test_recovers_known_ratings_within_the_intervals():
    inside = total = 0
    for seed in range(8):
        ratings = fit_ratings(simulate(120, seed), anchor="anchor", prior_draws=0.5)
        for r in ratings:
            if r.player == "anchor":
                assert r.elo == 0.0
                continue
            total += 1
            inside += r.low <= TRUE[r.player] <= r.high
            assert abs(r.elo - TRUE[r.player]) < 150
    # 95% intervals: nearly all should hold the truth (32 intervals; a few misses are chance).
    assert inside >= 0.85 * total, f"{inside}/{total} intervals hold the true rating"


def test_intervals_shrink_with_more_games_and_order_is_right():
    few = {r.player: r for r in fit_ratings(simulate(20, 1), anchor="anchor")}
    many = {r.player: r for r in fit_ratings(simulate(400, 1), anchor="anchor")}
    for name in ("weak", "mid", "strong", "best"):
        assert many[name].high - many[name].low < (few[name].high - few[name].low) / 2.5
    order = [r.player for r in fit_ratings(simulate(400, 2), anchor="anchor")]
    assert order == ["best", "strong", "mid", "anchor", "weak"]


def test_a_perfect_score_stays_finite_and_counts_are_kept():
    rows = [("a", "b", 1.0)] * 10 + [("a", "b", 0.5)] * 2
    ratings = {r.player: r for r in fit_ratings(rows, anchor="b")}
    assert 100 < ratings["a"].elo < 1000 and np.isfinite(ratings["a"].low)
    assert (ratings["a"].wins, ratings["a"].draws, ratings["a"].losses) == (10, 2, 0)
    assert ratings["b"].losses == 10 and ratings["a"].score == pytest.approx(11 / 12)
    assert "anchor" in format_table(list(ratings.values()), "b")


@pytest.mark.parametrize("rows, anchor, message", [
    ([("a", "b", 1.0)], "c", "has played no game"),
    ([("a", "a", 1.0)], "a", "cannot play itself"),
    ([("a", "b", 0.7)], "a", "0, 0.5 or 1"),
])
def test_bad_input_is_refused(rows, anchor, message):
    with pytest.raises(ValueError, match=message):
        fit_ratings(rows, anchor=anchor)
