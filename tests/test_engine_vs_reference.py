"""The numba engine against the plain-Python reference, move by move, over many random games."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_rules import ReferenceGame

from games.gomoku import Gomoku
from games.randomplay import nearby_candidates
from games.zobrist import zobrist_keys


def play_side_by_side(size, rule, n_in_row, seed, radius, check_forbidden=True):
    """Play one random game in both implementations, comparing everything after every move.

    ``radius`` 0 picks uniformly among legal moves; otherwise moves land near
    existing stones, which makes the tactical shapes (and renju's forbidden
    points) far more common.
    """
    rng = np.random.default_rng(seed)
    game = Gomoku(size=size, rule=rule, n_in_row=n_in_row)
    ref = ReferenceGame(size, rule, n_in_row)
    while True:
        if check_forbidden:
            assert game.forbidden_moves() == ref.forbidden(), game.render()
            legal = ref.legal()
            assert game.legal_moves() == legal, game.render()
        else:
            legal = game.legal_moves()
        assert game.winner == ref.winner
        assert game.is_over == bool(ref.winner)
        assert game.to_move == ref.to_move
        if game.is_over:
            return game
        candidates = nearby_candidates(game, radius) if radius else np.array(legal)
        move = int(rng.choice(candidates))
        game.play(move)
        ref.play(move)
        if rng.random() < 0.05:  # undo and redo now and then: undo must restore everything
            before = (game.board.copy(), game.hash, game.winner)
            game.undo()
            game.play(move)
            assert np.array_equal(before[0], game.board) and before[1:] == (game.hash, game.winner)


games_strategy = dict(seed=st.integers(0, 2**32 - 1), radius=st.sampled_from([0, 1, 2, 2, 3]))


@settings(max_examples=800)
@given(size=st.integers(5, 20), n_in_row=st.integers(3, 6), rule=st.sampled_from(["freestyle", "standard"]), **games_strategy)
def test_freestyle_and_standard_match_reference(size, n_in_row, rule, seed, radius):
    n_in_row = min(n_in_row, size)
    play_side_by_side(size, rule, n_in_row, seed, radius, check_forbidden=False)


@settings(max_examples=1200)
@given(size=st.integers(5, 20), rule=st.sampled_from(["freestyle", "standard"]), **games_strategy)
def test_five_in_a_row_matches_reference(size, rule, seed, radius):
    play_side_by_side(size, rule, 5, seed, radius, check_forbidden=False)


@settings(max_examples=800)
@given(size=st.integers(5, 11), **games_strategy)
def test_renju_small_boards_match_reference(size, seed, radius):
    play_side_by_side(size, "renju", 5, seed, radius)


@settings(max_examples=200)
@given(size=st.integers(12, 20), seed=st.integers(0, 2**32 - 1), radius=st.sampled_from([1, 2]))
def test_renju_large_boards_match_reference(size, seed, radius):
    play_side_by_side(size, "renju", 5, seed, radius)


@settings(max_examples=200)
@given(size=st.integers(5, 20), rule=st.sampled_from(["freestyle", "standard", "renju"]), seed=st.integers(0, 2**32 - 1))
def test_zobrist_hash_is_the_xor_of_the_stones(size, rule, seed):
    rng = np.random.default_rng(seed)
    game = Gomoku(size=size, rule=rule)
    keys = zobrist_keys(size)
    while not game.is_over:
        game.play(int(rng.choice(nearby_candidates(game, 2))))
        expected = 0
        for move, color in enumerate(game.board):
            expected ^= int(keys[color, move])
        assert game.hash == expected
    while game.moves:
        game.undo()
    assert game.hash == 0 and not game.board.any()
