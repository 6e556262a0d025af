"""The numba VCT (azero.search.vct) against a plain recursive reference written from its definitions, and on known shapes."""

import numpy as np
import pytest
from vct_reference import vct_first_moves, winning_points

from azero.search import vct
from azero.search.vcf import NO_VCF, find_vcf
from games import coords
from games.constants import BLACK, RULES, WHITE
from games.renju import new_three_stack


def quiet_random_position(rng, size, rule, n_in_row):
    """A random position where neither side can win at once (what the search asks about)."""
    while True:
        board = np.zeros(size * size, dtype=np.int8)
        stones = int(rng.integers(6, size * size // 4))
        for i, p in enumerate(rng.choice(size * size, size=stones, replace=False)):
            board[p] = BLACK if i % 2 == 0 else WHITE
        rows = [[int(board[y * size + x]) for x in range(size)] for y in range(size)]
        if not winning_points(rows, size, BLACK, n_in_row, rule) and not winning_points(rows, size, WHITE, n_in_row, rule):
            return board, rows


def fast_vct(board, size, attacker, rule, depth, state=None, budget=10**7):
    frames, points = new_three_stack()
    state = state or vct.new_state(size)
    before = board.copy()
    move = vct.find_vct_with(state, board, size, attacker, 5, RULES[rule], depth, budget, frames, points)
    assert np.array_equal(board, before)  # restored
    return move


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("depth, positions", [(1, 60), (2, 10)])
def test_fast_vct_agrees_with_the_reference_on_random_positions(rule, depth, positions):
    rng = np.random.default_rng(RULES[rule] * 7 + depth)
    size = 9
    state = vct.new_state(size)  # one table for all: what it remembers must never change an answer
    found = 0
    for _ in range(positions):
        board, rows = quiet_random_position(rng, size, rule, 5)
        for attacker in (BLACK, WHITE):
            move = fast_vct(board, size, attacker, rule, depth, state)
            starts = [y * size + x for x, y in vct_first_moves(rows, size, attacker, 5, rule, depth)]
            assert (move != vct.NO_VCT) == bool(starts), (board.reshape(size, size), attacker)
            if move != vct.NO_VCT:
                assert move in starts
                found += 1
    assert found >= positions // 10  # the positions do exercise wins, not only "no"


def test_random_positions_hold_wins_that_need_threes_and_more_than_one_threat():
    """Wins VCF cannot see, and wins that need exactly two threats, are there and agree with the reference."""
    rng = np.random.default_rng(5)
    size = 9
    frames, points = new_three_stack()
    beyond_vcf = two_threats = 0
    for _ in range(40):
        board, rows = quiet_random_position(rng, size, "freestyle", 5)
        for attacker in (BLACK, WHITE):
            one, two = (fast_vct(board, size, attacker, "freestyle", d) for d in (1, 2))
            if two == vct.NO_VCT:
                continue
            if find_vcf(board, size, attacker, 5, RULES["freestyle"], 12, 10**6, frames, points) == NO_VCF:
                beyond_vcf += 1
            if one == vct.NO_VCT:
                two_threats += 1
                assert not vct_first_moves(rows, size, attacker, 5, "freestyle", 1)
                assert two in [y * size + x for x, y in vct_first_moves(rows, size, attacker, 5, "freestyle", 2)]
    assert beyond_vcf >= 2 and two_threats >= 1


def position(black, white, size=9):
    board = np.zeros(size * size, dtype=np.int8)
    for colour, stones in ((BLACK, black), (WHITE, white)):
        for m in stones.split():
            board[coords.from_notation(m, size)] = colour
    return board


def reference(board, attacker, rule, depth, size=9):
    rows = [[int(board[y * size + x]) for x in range(size)] for y in range(size)]
    return sorted(coords.to_notation(y * size + x, size) for x, y in vct_first_moves(rows, size, attacker, 5, rule, depth))


def notation(move, size=9):
    return None if move == vct.NO_VCT else coords.to_notation(move, size)


# Black's two twos cross at e5: that stone makes two open threes at once.
DOUBLE_THREE = dict(black="c5 d5 e3 e4", white="a9 i9 i1 b1")


def test_a_double_three_wins_in_freestyle_and_vcf_cannot_see_it():
    board = position(**DOUBLE_THREE)
    frames, points = new_three_stack()
    assert find_vcf(board, 9, BLACK, 5, RULES["freestyle"], 12, 10**6, frames, points) == NO_VCF
    assert notation(fast_vct(board, 9, BLACK, "freestyle", 1)) == "e5"
    assert reference(board, BLACK, "freestyle", 1) == ["e5"]


def test_in_renju_a_double_three_is_forbidden_so_it_is_no_win():
    board = position(**DOUBLE_THREE)
    assert fast_vct(board, 9, BLACK, "renju", 1) == vct.NO_VCT and reference(board, BLACK, "renju", 1) == []
    # White may make the same shape: renju forbids black only.
    board = position(black=DOUBLE_THREE["white"], white=DOUBLE_THREE["black"])
    assert notation(fast_vct(board, 9, WHITE, "renju", 1)) == "e5"


def test_a_four_three_wins():
    # c5 d5 e5 closed by white b5: f5 makes a four (g5) and a three (f3 f4 f5) at once.
    board = position(black="c5 d5 e5 f3 f4", white="b5 a9 i9 i1 a1")
    assert notation(fast_vct(board, 9, BLACK, "freestyle", 1)) in reference(board, BLACK, "freestyle", 1)
    assert "f5" in reference(board, BLACK, "freestyle", 1)


def test_a_counter_four_refutes_a_double_three():
    # The double three again, but white holds an open three on row 8: after e5 white answers with an open four.
    board = position(black="c5 d5 e3 e4 h2", white="b8 c8 d8 a1 i1")
    assert fast_vct(board, 9, BLACK, "freestyle", 1) == vct.NO_VCT
    assert reference(board, BLACK, "freestyle", 1) == []
    # Closed at one end (black a8), white's three gives only a four that black must answer; e5 still wins.
    board = position(black="c5 d5 e3 e4 a8", white="b8 c8 d8 a1 i1")
    assert notation(fast_vct(board, 9, BLACK, "freestyle", 2)) in reference(board, BLACK, "freestyle", 2)
    assert "e5" in reference(board, BLACK, "freestyle", 2)


def test_a_three_whose_four_point_is_forbidden_is_not_a_real_three_in_renju():
    # Black's c5 d5 e5 line can only become a straight four at f5 or b5; an overline makes b5 forbidden
    # for black (black g5 h5 i5 ... ) and the same shape is a threat for white.
    board = position(black="c5 d5 e5 g3 g4", white="a9 i9 i1 a1 h8")
    for rule in ("freestyle", "renju"):
        assert (fast_vct(board, 9, BLACK, rule, 1) == vct.NO_VCT) == (reference(board, BLACK, rule, 1) == [])


def test_a_budget_too_small_says_no_never_a_guess():
    board = position(**DOUBLE_THREE)
    assert fast_vct(board, 9, BLACK, "freestyle", 1, budget=1) == vct.NO_VCT
    assert notation(fast_vct(board, 9, BLACK, "freestyle", 1, budget=10**4)) == "e5"
