"""The numba VCF search against a plain recursive reference on many random positions, and on known shapes."""

import numpy as np
import pytest
from reference_rules import EMPTY, is_forbidden, is_win

from azero.search.vcf import NO_VCF, find_vcf
from games import coords
from games.constants import BLACK, RULES, WHITE
from games.renju import new_three_stack


# -- the reference: the rule book, recursively, trying every point -------------------------------------------
def winning_points(rows, size, color, n_in_row, rule):
    points = []
    for y in range(size):
        for x in range(size):
            if rows[y][x] == EMPTY:
                rows[y][x] = color
                if is_win(rows, size, x, y, color, n_in_row, rule):
                    points.append((x, y))
                rows[y][x] = EMPTY
    return points


def reference_vcf_moves(rows, size, attacker, n_in_row, rule, fours):
    """Every first move of a VCF of at most ``fours`` fours (the same definition as azero.search.vcf, written plainly)."""
    defender = WHITE if attacker == BLACK else BLACK
    starts = []
    for y in range(size):
        for x in range(size):
            if rows[y][x] != EMPTY or (rule == "renju" and attacker == BLACK and is_forbidden(rows, size, x, y)):
                continue
            rows[y][x] = attacker
            if is_win(rows, size, x, y, attacker, n_in_row, rule):
                starts.append(y * size + x)
            else:
                wins = winning_points(rows, size, attacker, n_in_row, rule)
                if len(wins) >= 2:
                    starts.append(y * size + x)
                elif len(wins) == 1:
                    bx, by = wins[0]
                    if rule == "renju" and defender == BLACK and is_forbidden(rows, size, bx, by):
                        starts.append(y * size + x)
                    elif fours > 1:
                        rows[by][bx] = defender
                        if not winning_points(rows, size, defender, n_in_row, rule) and reference_vcf_moves(
                                rows, size, attacker, n_in_row, rule, fours - 1):
                            starts.append(y * size + x)
                        rows[by][bx] = EMPTY
            rows[y][x] = EMPTY
    return starts


def quiet_random_position(rng, size, rule, n_in_row):
    """A random position where neither side can win at once (what the search asks about)."""
    while True:
        board = np.zeros(size * size, dtype=np.int8)
        stones = int(rng.integers(8, size * size // 3))
        points = rng.choice(size * size, size=stones, replace=False)
        # Clustered stones make fours likely: keep the points near the centre more often.
        for i, p in enumerate(points):
            board[p] = BLACK if i % 2 == 0 else WHITE
        rows = [[int(board[y * size + x]) for x in range(size)] for y in range(size)]
        if not winning_points(rows, size, BLACK, n_in_row, rule) and not winning_points(rows, size, WHITE, n_in_row, rule):
            return board, rows


@pytest.mark.parametrize("rule", list(RULES))
def test_fast_vcf_agrees_with_the_reference_on_random_positions(rule):
    rng = np.random.default_rng(RULES[rule] + 11)
    size, n_in_row, fours = 9, 5, 3
    frames, points = new_three_stack()
    found = 0
    for _ in range(60):
        board, rows = quiet_random_position(rng, size, rule, n_in_row)
        for attacker in (BLACK, WHITE):
            before = board.copy()
            move = find_vcf(board, size, attacker, n_in_row, RULES[rule], fours, 10**6, frames, points)
            assert np.array_equal(board, before)  # restored
            starts = reference_vcf_moves(rows, size, attacker, n_in_row, rule, fours)
            assert (move != NO_VCF) == bool(starts)
            if move != NO_VCF:
                assert move in starts
                found += 1
    assert found >= 5  # the positions do exercise wins, not only "no"


def position(black, white, size=15):
    board = np.zeros(size * size, dtype=np.int8)
    for colour, stones in ((BLACK, black), (WHITE, white)):
        for m in stones.split():
            board[coords.from_notation(m, size)] = colour
    return board


def vcf(board, attacker, rule="freestyle", fours=10, budget=10**6, size=15):
    frames, points = new_three_stack()
    before = board.copy()
    move = find_vcf(board, size, attacker, 5, RULES[rule], fours, budget, frames, points)
    assert np.array_equal(board, before)
    return None if move == NO_VCF else coords.to_notation(move, size)


def reference(board, attacker, rule="freestyle", fours=10, size=15):
    rows = [[int(board[y * size + x]) for x in range(size)] for y in range(size)]
    return sorted(coords.to_notation(m, size) for m in reference_vcf_moves(rows, size, attacker, 5, rule, fours))


# Found by random search and confirmed by the reference: black wins only with three fours in a row, starting at h8.
THREE_FOURS = dict(black="k10 h9 i9 h7 k7 i6 h5", white="i10 j10 g8 f6 i5")


def test_a_vcf_of_three_fours_needs_that_depth_and_matches_the_reference():
    board = position(**THREE_FOURS)
    assert [vcf(board, BLACK, fours=k) for k in (1, 2, 3, 8)] == [None, None, "h8", "h8"]
    assert reference(board, BLACK, fours=2) == [] and reference(board, BLACK, fours=3) == ["h8"]
    assert vcf(board, WHITE) is None
    assert vcf(board, BLACK, budget=3) is None  # too few tries to find it: "not found", never a guess


def test_renju_forbidden_points_cut_both_ways():
    # White e5 f6 g7 (d4 black): i9 is a four whose only winning point h8 is a double three for black.
    board = position("h9 h10 f8 g8 d4", "e5 f6 g7")
    assert vcf(board, WHITE, rule="renju") == "i9" and reference(board, WHITE, rule="renju", fours=2) == ["i9"]
    assert vcf(board, WHITE, rule="freestyle") is None  # black may block there in freestyle
    # Black's double four at h8 wins in freestyle, but is forbidden in renju, and the single fours do not win.
    board = position("e8 f8 g8 h5 h6 h7", "d8 h4 a1 a3 a5 a7")
    assert vcf(board, BLACK, rule="freestyle") == "h8"
    assert vcf(board, BLACK, rule="renju") is None and reference(board, BLACK, rule="renju", fours=3) == []


def test_the_search_plays_the_first_four_of_a_vcf_and_avoids_moves_that_allow_one():
    from azero.model.evaluator import UniformEvaluator
    from azero.players.network import NetPlayer
    from azero.search import mcts
    from azero.search.searcher import SearchConfig
    from games.gomoku import Gomoku

    board = position(**THREE_FOURS)
    black = [p for p in range(225) if board[p] == BLACK]
    white = [p for p in range(225) if board[p] == WHITE] + [coords.from_notation("o15", 15)]
    game = Gomoku.from_stones(black, white + [coords.from_notation("a15", 15)], size=15, rule="freestyle")
    assert game.to_move == BLACK
    assert coords.to_notation(NetPlayer(UniformEvaluator(), 30, SearchConfig(move_radius=3)).analyse(game).move,
                              15) == "h8"
    # White to move (one more far stone): every white move that leaves black's VCF standing is a proven loss.
    defending = Gomoku.from_stones(black, white, size=15, rule="freestyle")
    player = NetPlayer(UniformEvaluator(), 400, SearchConfig(move_radius=3))
    move = player.analyse(defending).move
    s = player._searcher
    first = int(s.ints[0, mcts.ROOT, mcts.FIRST_CHILD])
    children = range(first, first + int(s.ints[0, mcts.ROOT, mcts.NUM_CHILDREN]))
    lost = {int(s.ints[0, c, mcts.MOVE]) for c in children
            if s.ints[0, c, mcts.STATE] == mcts.TERMINAL and s.floats[0, c, mcts.EXACT_VALUE] == 1.0}
    assert len(lost) > 10 and move not in lost


def test_a_kept_subtree_whose_root_has_a_vcf_is_judged_again_as_a_root():
    """Tree reuse: the new root was searched as a leaf, with the small leaf budget; as a root it gets the large one."""
    from azero.model.evaluator import UniformEvaluator
    from azero.search import mcts
    from azero.search.searcher import SearchConfig, Searcher
    from games.gomoku import Gomoku

    board = position(**THREE_FOURS)
    black = [p for p in range(225) if board[p] == BLACK]
    white = [p for p in range(225) if board[p] == WHITE] + [coords.from_notation("o15", 15)]
    game = Gomoku.from_stones(black, white, size=15, rule="freestyle")  # white to move, black's VCF standing
    assert vcf(board, BLACK, budget=3) is None  # the leaf budget below cannot see it; 100 times that can
    searcher = Searcher(15, RULES["freestyle"], 5, 1, UniformEvaluator(), SearchConfig(move_radius=3, vcf_budget=3),
                        max_simulations=2000)
    searcher.set_position(0, game)
    searcher.search(np.array([0], dtype=np.int32), 2000)
    first = int(searcher.ints[0, mcts.ROOT, mcts.FIRST_CHILD])
    children = range(first, first + int(searcher.ints[0, mcts.ROOT, mcts.NUM_CHILDREN]))
    # A white move far from everything, whose subtree the search did expand.
    far = next(int(searcher.ints[0, c, mcts.MOVE]) for c in children
               if searcher.ints[0, c, mcts.STATE] == mcts.EXPANDED
               and vcf(np.where(np.arange(225) == searcher.ints[0, c, mcts.MOVE], WHITE, board).astype(np.int8),
                       BLACK) == "h8")
    searcher.play(0, far)
    assert searcher.node_count[0] == 1  # not kept: judged again as a root
    searcher.search(np.array([0], dtype=np.int32), 20)
    assert coords.to_notation(searcher.choose_move(0), 15) == "h8"
