"""The time manager: move budgets from the manager's clock, and the stoppers that end a search (fake clocks)."""

from __future__ import annotations

import numpy as np
import pytest

from azero.model.evaluator import UniformEvaluator
from azero.players.network import MIN_SIMULATIONS, NetPlayer, play_search_config
from azero.search import time_manager as tm
from azero.search.time_manager import MoveBudget, OverheadMeter, RootStats, SearchStopper, plan_flat_move, plan_move
from games.gomoku import Gomoku


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def root(visits: list[int], value: float = 0.0, children: int | None = None, nodes: int = 100,
         proven: bool = False) -> RootStats:
    array = np.zeros(81, dtype=np.float32)
    array[:len(visits)] = visits
    return RootStats(array, value, len(visits) if children is None else children, nodes, proven)


SURE = [900, 50, 50]  # the best move has 90% of the visits, the runner-up 5%
UNSURE = [400, 380, 220]  # a close second


# -- plan_move ------------------------------------------------------------------------------------------


def test_without_a_match_clock_the_move_thinks_to_the_turn_limit_less_the_margin():
    budget = plan_move(None, None, margin_s=0.1)
    assert budget.soft_s == budget.hard_s == pytest.approx(tm.DEFAULT_TURN_SECONDS - 0.1)
    assert not budget.stop_when_decided  # saving time is worth nothing here; the tree deepens instead
    assert plan_move(300, None, margin_s=0.1).hard_s == pytest.approx(0.2)
    assert plan_move(0, None) == MoveBudget(0.0, 0.0)  # "as fast as possible"
    assert plan_move(50, None, margin_s=0.1).hard_s == 0.0  # a limit below the margin: the minimum search


def test_the_flat_rule_spends_a_twentieth_of_what_is_left_less_its_margin_on_every_move():
    assert plan_flat_move(5000, 60000) == MoveBudget(2.77, 2.77, stop_when_decided=False)
    assert plan_flat_move(5000, 20000).hard_s == pytest.approx(1 * 0.95 - 0.08)
    assert plan_flat_move(5000, None).hard_s == pytest.approx(5 * 0.95 - 0.08)  # only the turn limit
    assert plan_flat_move(None, None, default_turn_s=2.0).hard_s == pytest.approx(2 * 0.95 - 0.08)
    assert plan_flat_move(0, 60000).hard_s == 0.0  # "as fast as possible"
    assert plan_flat_move(5000, -500).hard_s == 0.0  # already over


def test_a_match_clock_gives_an_ordinary_share_and_room_to_extend_within_the_turn_limit():
    budget = plan_move(10000, 60000, own_moves_played=0, board_points=225, margin_s=0.1, overhead_s=0.01)
    moves_to_go = 225 * tm.EXPECTED_OWN_MOVES_PER_POINT
    usable = 60 - 114 * 0.01  # the overheads of the 113 moves the board has room for, and a spare, are kept
    assert budget.soft_s == pytest.approx(usable / moves_to_go)
    assert budget.hard_s == pytest.approx(min(10 - 0.1, tm.MAX_EXTENSION * budget.soft_s))
    assert plan_move(5000, 60000, margin_s=0.1, overhead_s=0.01).hard_s == pytest.approx(5 - 0.1)  # the turn limit
    assert not budget.stop_when_decided  # what a decided move saves is spent deepening the tree, not left unused
    # Late in a long game the clock left is shared among at least MIN_MOVES_TO_GO moves.
    late = plan_move(5000, 10000, own_moves_played=60, board_points=225, margin_s=0.1, overhead_s=0.01)
    usable = 10 - (113 - 60 + 1) * 0.01
    assert late.soft_s == pytest.approx(usable / tm.MIN_MOVES_TO_GO)
    assert late.hard_s <= tm.MAX_SHARE_OF_LEFT * usable + 1e-9
    over = plan_move(5000, -300, 10)  # already over: play at once
    assert over.soft_s == over.hard_s == 0.0


@pytest.mark.parametrize("overhead_s", [0.02, tm.INITIAL_OVERHEAD_S])
def test_a_match_clock_never_runs_out_even_when_every_move_is_unsure(overhead_s):
    """Every move spends its hard limit and its overhead, for the 113 moves a side a 15x15 board can hold."""
    left_ms, margin = 60000.0, tm.MIN_MARGIN_S + tm.OVERHEAD_FACTOR * overhead_s
    for own_moves in range(113):
        budget = plan_move(5000, int(left_ms), own_moves, 225, margin, overhead_s=overhead_s)
        assert budget.hard_s <= 5 - margin
        left_ms -= 1000 * (budget.hard_s + overhead_s)
        assert left_ms > 0, own_moves


def test_the_first_dozen_moves_where_a_15x15_game_is_decided_get_over_half_of_the_clock():
    """Under c-gomoku-cli at 60 s a game a 15x15 game was decided within our first 15 moves, and the rest were
    forced or won (0.01-0.03 s): planned for 25 moves, the first 12 at the ordinary time spent 25 s of the 60."""
    left_ms = 60000.0
    for own_moves in range(12):
        budget = plan_move(5000, int(left_ms), own_moves, 225, 0.07, overhead_s=0.02)
        left_ms -= 1000 * (budget.soft_s + 0.02)
    assert left_ms < 0.5 * 60000


def test_a_typical_game_uses_most_of_the_match_clock():
    """30 moves a side, each spending its ordinary time: over half the clock goes, none runs out."""
    left_ms = 60000.0
    for own_moves in range(30):
        budget = plan_move(5000, int(left_ms), own_moves, 225, 0.07, overhead_s=0.02)
        left_ms -= 1000 * (budget.soft_s + 0.02)
    assert 0 < left_ms < 0.5 * 60000


def test_a_budget_checks_its_order_and_can_have_time_taken_off():
    with pytest.raises(ValueError):
        MoveBudget(2.0, 1.0)
    budget = MoveBudget(1.0, 3.0, max_nodes=5).less(1.5)
    assert (budget.soft_s, budget.hard_s, budget.max_nodes) == (0.0, 1.5, 5)
    assert MoveBudget.fixed(-1).hard_s == 0.0


# -- the safety margin --------------------------------------------------------------------------------


def test_the_margin_is_measured_from_the_worst_recent_overhead():
    meter = OverheadMeter()
    assert meter.margin_s() == pytest.approx(tm.MIN_MARGIN_S + tm.OVERHEAD_FACTOR * tm.INITIAL_OVERHEAD_S)
    # Unmeasured, the clock's reserve assumes an ordinary move and its least search, not a cold first answer:
    # 60 s still give over 1.8 s (a reserve of the cold answer's margin, 0.33 s, for 114 moves would leave 0.9 s).
    assert plan_move(5000, 60000, 0, 225, meter.margin_s(), overhead_s=meter.reserve_per_move_s()).soft_s > 1.8
    meter.record(total_s=1.02, searched_s=1.0, planned_s=1.0)  # 20 ms outside the search
    assert meter.margin_s() == pytest.approx(tm.MIN_MARGIN_S + tm.OVERHEAD_FACTOR * 0.02)
    meter.record(total_s=1.1, searched_s=1.09, planned_s=1.0)  # the last step ran 90 ms past its limit
    assert meter.worst_s == pytest.approx(0.1)
    for _ in range(tm.OVERHEAD_MEMORY):
        meter.record(1.005, 1.0, 1.0)
    assert meter.worst_s == pytest.approx(0.005)  # old moves are forgotten


# -- the stoppers -------------------------------------------------------------------------------------


def run_until_stopped(stopper: SearchStopper, clock: FakeClock, stats, step_s: float = 0.01,
                      limit_s: float = 100.0) -> float:
    """Step the fake clock until the stopper says stop; the seconds it ran.  ``stats(elapsed)`` gives the root."""
    while clock.now - stopper.started < limit_s:
        clock.now += step_s
        if stopper.past_hard_limit() or stopper.should_stop(0, stats(clock.now - stopper.started)):
            return clock.now - stopper.started
    raise AssertionError("never stopped")


def test_a_sure_search_stops_at_the_ordinary_time_and_an_unsure_one_goes_on_to_the_hard_limit():
    for visits, expected in ((SURE, 1.0), (UNSURE, 3.0)):
        clock = FakeClock()
        stopper = SearchStopper(MoveBudget(1.0, 3.0, stop_when_decided=False), clock)
        stopped = run_until_stopped(stopper, clock, lambda t, visits=visits: root(visits))
        assert expected - 0.03 <= stopped <= expected, visits
        assert stopper.reasons.get(0, "hard limit") == ("planned time" if visits is SURE else "hard limit")


@pytest.mark.parametrize("unsure_root", [
    root([300, 200, 200, 150, 150]),  # the best move has under a third of the visits
    root([500, 400]),  # a close second
    root(SURE, value=0.6),  # the win rate swung since the last move (previous_value 0)
])
def test_each_sign_of_doubt_extends_the_move(unsure_root):
    clock = FakeClock()
    stopper = SearchStopper(MoveBudget(1.0, 3.0, stop_when_decided=False, previous_value=0.0), clock)
    assert run_until_stopped(stopper, clock, lambda t: unsure_root) > 2.9


def test_a_best_move_that_changed_lately_extends_the_move():
    clock = FakeClock()
    stopper = SearchStopper(MoveBudget(1.0, 3.0, stop_when_decided=False), clock)
    # The best move is point 0 until 0.9 s, then point 1 with the same lead: unsure until the change is old.
    stopped = run_until_stopped(stopper, clock, lambda t: root(SURE if t < 0.9 else SURE[::-1]))
    assert 1.05 < stopped < 3.0


def test_a_move_that_cannot_change_stops_before_the_ordinary_time():
    clock = FakeClock()
    stopper = SearchStopper(MoveBudget(2.0, 4.0), clock)
    # 1000 visits a second, all to the best move, which led by 990 at the start: just after 1.5 s its lead
    # (990 + 1000 t) passes the visits the time left to the hard limit could add (1000 (4 - t)).
    stopped = run_until_stopped(stopper, clock, lambda t: root([int(1000 * t) + 1000, 10, 10]))
    assert 1.45 < stopped < 1.6 and stopper.reasons[0] == "decided"
    clock = FakeClock()
    keep_going = SearchStopper(MoveBudget(2.0, 2.0, stop_when_decided=False), clock)
    assert run_until_stopped(keep_going, clock, lambda t: root([int(1000 * t) + 1000, 10, 10])) > 1.95


@pytest.mark.parametrize("stats, reason", [
    (root(UNSURE, proven=True), "proven win"),
    (root([MIN_SIMULATIONS]), "only move"),
    (root(UNSURE, nodes=999), "memory"),
])
def test_proofs_single_moves_and_a_full_tree_stop_at_once(stats, reason):
    clock = FakeClock()
    stopper = SearchStopper(MoveBudget(5.0, 10.0, max_nodes=1000), clock)
    assert run_until_stopped(stopper, clock, lambda t: stats) <= 0.011
    assert stopper.reasons[0] == reason


def test_the_last_step_is_expected_to_take_as_long_as_the_longest_so_far():
    """Steps of 0.3 s and a 1 s limit: the search stops after three steps, not four (which would end at 1.2 s)."""
    clock = FakeClock()
    stopper = SearchStopper(MoveBudget(1.0, 1.0, stop_when_decided=False), clock)
    assert run_until_stopped(stopper, clock, lambda t: root(UNSURE), step_s=0.3) == pytest.approx(0.9)


# -- the stoppers in a real search (a uniform network: no torch) ------------------------------------------


def uniform_player(simulations: int = 5000) -> NetPlayer:
    return NetPlayer(UniformEvaluator(), simulations, play_search_config(9, vct=0), name="uniform")


def test_a_net_player_stops_on_a_won_position_at_once_and_says_why():
    game = Gomoku(9, "freestyle", 5)
    for move in (0, 80, 1, 79, 2, 78, 3, 77):  # black has four in a row on the top line: 4 wins
        game.play(move)
    player = uniform_player()
    # An hour to think: only the proof can stop it this soon (and a cold kernel cache cannot reach the limit).
    assert player.choose_moves([game], budget=MoveBudget(3600.0, 3600.0)) == [4]
    assert player.last_stop_reasons[0] in ("proven win", "only move")
    assert player.last_simulations[0] < 100


def test_a_net_player_keeps_its_tree_within_max_nodes():
    game = Gomoku(9, "freestyle", 5)
    game.play(40)
    player = uniform_player(20000)
    player.choose_moves([game], budget=MoveBudget(3600.0, 3600.0, stop_when_decided=False, max_nodes=3000))
    assert player.last_stop_reasons == ["memory"]
    assert player._searcher.node_count[0] <= 3000


def test_a_fixed_time_player_reports_why_it_stopped_and_an_untimed_one_reports_nothing():
    game = Gomoku(9, "freestyle", 5)
    player = uniform_player(200)
    player.choose_moves([game], seconds=0.0)
    assert player.last_stop_reasons == ["hard limit"] and player.last_simulations[0] >= MIN_SIMULATIONS
    player.close()
    player.choose_moves([game])
    assert player.last_stop_reasons == [] and player.last_simulations[0] == 200


def test_the_clocks_reserve_follows_the_typical_overhead_not_one_slow_move():
    meter = OverheadMeter()
    meter.record(total_s=0.4, searched_s=0.05, planned_s=1.0)  # one slow move (a cold cache, say)
    for _ in range(4):
        meter.record(total_s=1.01, searched_s=1.0, planned_s=1.0)
    assert meter.worst_s == pytest.approx(0.35)  # the margin still covers it
    assert meter.typical_s == pytest.approx(0.01)
    assert meter.reserve_per_move_s() == pytest.approx(tm.MIN_MARGIN_S + tm.OVERHEAD_FACTOR * 0.01
                                                       + tm.INITIAL_LEAST_SEARCH_S)
    ordinary = plan_move(5000, 60000, 0, 225, meter.margin_s(), overhead_s=meter.reserve_per_move_s()).soft_s
    assert ordinary > 1.8  # a reserve of 0.35 s for each of 114 moves would leave 0.8 s


def test_a_9x9_game_that_fills_the_board_keeps_the_clock_for_its_last_quick_moves():
    """What c-gomoku-cli showed (20 s a game, 2 s a move): unsure moves took their limits, and the last 30 moves,
    answered in 10-15 ms each, were charged up to 25 ms by the manager.  The reserve must cover them."""
    meter = OverheadMeter()
    for _ in range(OVERHEAD_MEMORY_FILL):
        meter.record(total_s=0.013, searched_s=0.012, planned_s=0.012)  # the engine's own view: 1 ms outside
    left_ms = 20000.0
    for own_moves in range(41):  # 81 points: black plays 41 moves
        budget = plan_move(2000, int(left_ms), own_moves, 81, meter.margin_s(), overhead_s=meter.reserve_per_move_s())
        left_ms -= 1000 * (budget.hard_s + 0.025)  # every move unsure, and 25 ms charged beyond its search
        assert left_ms > 0, own_moves


OVERHEAD_MEMORY_FILL = tm.OVERHEAD_MEMORY


def test_a_15x15_game_that_fills_the_board_keeps_the_clock_for_its_least_searches():
    """What c-gomoku-cli showed (60 s a game, 5 s a move, gomoku15 on one thread): a game of 110 moves a side ran
    the clock to nothing, every late move planned at 0 s still searching its first leaves for 50 ms."""
    least_search_s, outside_s = 0.05, 0.005
    meter = OverheadMeter()
    for _ in range(OVERHEAD_MEMORY_FILL):
        meter.record(total_s=2.0 + outside_s, searched_s=2.0, planned_s=2.0)
        meter.record_least_search(least_search_s)
    left_ms = 60000.0
    for own_moves in range(113):
        budget = plan_move(5000, int(left_ms), own_moves, 225, meter.margin_s(), overhead_s=meter.reserve_per_move_s())
        searched = max(budget.hard_s, least_search_s)  # every move unsure; none searches less than its least
        left_ms -= 1000 * (searched + outside_s + tm.MIN_MARGIN_S)  # and the manager's side of each move
        assert left_ms > 0, own_moves


def test_a_net_player_says_how_long_its_least_search_took():
    player = NetPlayer(UniformEvaluator(), 200, play_search_config(9))
    game = Gomoku(9, "freestyle", 5)
    player.choose_moves([game], budget=MoveBudget(0.0, 0.0))
    assert player.last_simulations[0] >= MIN_SIMULATIONS and player.least_search_s > 0
