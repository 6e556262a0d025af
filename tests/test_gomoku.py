"""The public face of the engine: what other code and people rely on."""

import numpy as np
import pytest

from games.gomoku import Gomoku


def test_a_new_game():
    g = Gomoku()
    assert (g.size, g.rule, g.n_in_row) == (15, "freestyle", 5)
    assert g.to_move == 1 and g.winner == 0 and not g.is_over
    assert g.moves == [] and g.last_move is None
    assert g.legal_moves() == list(range(225))
    assert g.forbidden_moves() == []


def test_moves_in_every_form_and_alternating_colours():
    g = Gomoku(size=15)
    assert g.play("h8") == 112
    assert g.play((8, 6)) == 6 * 15 + 8
    assert g.play(113) == 113
    assert g.moves == [112, 98, 113]
    assert g.to_move == 2 and g.last_move == 113
    assert g.board[112] == 1 and g.board[98] == 2 and g.board[113] == 1
    assert 112 not in g.legal_moves()


@pytest.mark.parametrize("rule", ["freestyle", "standard", "renju"])
def test_five_in_a_row_wins_for_black(rule):
    g = Gomoku(rule=rule)
    for black, white in zip(["a1", "b1", "c1", "d1"], ["a3", "b3", "c3", "d3"]):
        g.play(black)
        g.play(white)
    g.play("e1")
    assert g.winner == 1 and g.is_over and g.legal_moves() == []


def overline_game(rule, maker):
    """A game where ``maker`` (1 black, 2 white) has XXX.XX on row 1 and is to move: d1 makes six."""
    row = ["a1", "b1", "c1", "e1", "f1"]
    scattered = ["a5", "c5", "e5", "g5", "i5"]
    moves = [m for pair in zip(row, scattered) for m in pair]
    if maker == 2:
        moves = ["o15"] + [m for pair in zip(row, scattered) for m in pair]
    game = Gomoku.from_moves(moves, rule=rule)
    assert game.to_move == maker
    return game


@pytest.mark.parametrize(
    "rule, maker, winner",
    [
        ("freestyle", 1, 1),  # five or more wins
        ("freestyle", 2, 2),
        ("standard", 1, 0),  # exactly five: an overline does not win, and the game goes on
        ("standard", 2, 0),
        ("renju", 2, 2),  # white may win with an overline
    ],
)
def test_overline(rule, maker, winner):
    g = overline_game(rule, maker)
    g.play("d1")
    assert g.winner == winner and g.is_over == bool(winner)


def test_overline_is_forbidden_to_black_in_renju():
    g = overline_game("renju", 1)
    assert g.forbidden_moves() == [14 * 15 + 3]  # d1
    with pytest.raises(ValueError, match="forbidden"):
        g.play("d1")


def test_full_board_without_a_winner_is_a_draw():
    # On 5x5 with five in a row needed, this filling has no five anywhere.
    rows = ["XXOOX", "OOXXO", "XXOOX", "OOXXO", "XXOOX"]
    black = [y * 5 + x for y in range(5) for x in range(5) if rows[y][x] == "X"]
    white = [y * 5 + x for y in range(5) for x in range(5) if rows[y][x] == "O"]
    g = Gomoku(size=5)
    moves = [m for pair in zip(black, white) for m in pair] + black[len(white):]
    for move in moves[:-1]:
        g.play(move)
    assert g.winner == 0
    g.play(moves[-1])
    assert g.winner == 3 and g.is_over and g.result_text() == "draw"


def test_undo_restores_the_position_and_reopens_a_finished_game():
    g = Gomoku()
    for move in ["a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2"]:
        g.play(move)
    board, hash_before = g.board.copy(), g.hash
    g.play("e1")
    assert g.is_over
    assert g.undo() == g.size * 14 + 4
    assert not g.is_over and g.to_move == 1 and g.hash == hash_before
    assert np.array_equal(g.board, board)
    while g.moves:
        g.undo()
    assert g.hash == 0 and not g.board.any()
    with pytest.raises(ValueError, match="nothing to undo"):
        g.undo()


def test_copy_is_independent():
    g = Gomoku()
    g.play("h8")
    c = g.copy()
    c.play("h9")
    assert g.moves == [112] and len(c.moves) == 2 and g.board[97] == 0


def test_hash_depends_on_stones_not_on_move_order():
    a = Gomoku.from_moves(["h8", "h9", "i8", "i9"])
    b = Gomoku.from_moves(["i8", "i9", "h8", "h9"])
    c = Gomoku.from_moves(["h8", "i9", "i8", "h9"])
    assert a.hash == b.hash == c.hash
    assert a.hash != Gomoku.from_moves(["h9", "h8", "i8", "i9"]).hash  # colours swapped


def test_n_in_row_is_configurable():
    g = Gomoku(size=7, n_in_row=4)
    for move in ["a1", "a2", "b1", "b2", "c1", "c2"]:
        g.play(move)
    g.play("d1")
    assert g.winner == 1


def test_renju_forbidden_points_only_when_black_is_to_move():
    # Black: h8, h9, f10, g10 gives h10 a double-three; white stones far away.
    g = Gomoku.from_moves(["h8", "a1", "h9", "a3", "f10", "a5", "g10", "a7"], rule="renju")
    assert g.to_move == 1
    assert g.forbidden_moves() == [5 * 15 + 7]  # h10
    assert not g.is_legal("h10") and g.is_legal("h11")
    assert 5 * 15 + 7 not in g.legal_moves()
    g.play("o15")
    assert g.forbidden_moves() == []  # white to move: nothing is forbidden to white
    assert 5 * 15 + 7 in g.legal_moves()


def test_forbidden_moves_are_empty_outside_renju():
    g = Gomoku.from_moves(["h8", "a1", "h9", "a3", "f10", "a5", "g10", "a7"], rule="freestyle")
    assert g.forbidden_moves() == [] and g.is_legal("h10")


def test_render_marks_stones_last_move_and_forbidden_points():
    g = Gomoku.from_moves(["h8", "a1", "h9", "a3", "f10", "a5", "g10", "a7"], rule="renju")
    text = g.render()
    assert " 8 " in text and "a b c d e f g h i j k l m n o" in text
    rows = "\n".join(text.splitlines()[:-1])  # the board without the column letters
    assert rows.count("#") == 1 and rows.count("X") == 4 and rows.count("O") == 3 and rows.count("o") == 1


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(size=4), "board size"),
        (dict(size=21), "board size"),
        (dict(rule="go"), "unknown rule"),
        (dict(rule=None), "unknown rule"),
        (dict(n_in_row=2), "n_in_row"),
        (dict(size=5, n_in_row=6), "n_in_row"),
        (dict(rule="renju", n_in_row=4), "renju"),
    ],
)
def test_bad_game_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Gomoku(**kwargs)


def test_illegal_moves_are_refused_with_the_reason_and_change_nothing():
    g = Gomoku()
    g.play("h8")
    before = (g.board.copy(), list(g.moves), g.hash)
    for bad, words in [("h8", "occupied by a black stone"), ("z1", "malformed"), ((15, 3), "off the"), (-5, "off the")]:
        with pytest.raises(ValueError, match=words):
            g.play(bad)
    assert np.array_equal(g.board, before[0]) and g.moves == before[1] and g.hash == before[2]
    for move in ["a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5"]:
        g.play(move)
    assert g.winner == 2
    with pytest.raises(ValueError, match="game is over"):
        g.play("o15")


def test_from_moves_names_the_bad_move():
    with pytest.raises(ValueError, match="move 3: point h8 is occupied"):
        Gomoku.from_moves(["h8", "h9", "h8"])


def test_from_stones_builds_a_position_with_either_side_to_move():
    g = Gomoku.from_stones(["h8", "i9"], ["h9"])
    assert g.to_move == 2 and sorted(g.moves) == [97, 98, 112]
    g.undo()
    assert g.to_move == 1


@pytest.mark.parametrize(
    "black, white, words",
    [
        (["h8"], ["h9", "h10"], "black must have as many"),
        (["h8", "h9", "h10"], ["a1"], "black must have as many"),
        (["h8", "h9"], ["h8"], "two stones on h8"),
        (["a1", "b1", "c1", "d1", "e1"], ["a3", "b3", "c3", "d3", "e3"], "both black and white"),
        (["a1", "b1", "c1", "d1", "e1"], ["a3", "b3", "c3", "d3", "o15"], "has moved since"),
        (["zz"], [], "malformed"),
    ],
)
def test_impossible_positions_are_refused(black, white, words):
    with pytest.raises(ValueError, match=words):
        Gomoku.from_stones(black, white)


def test_from_stones_sees_a_finished_game():
    g = Gomoku.from_stones(["a1", "b1", "c1", "d1", "e1"], ["a3", "b3", "c3", "d3"])
    assert g.winner == 1 and g.is_over


def test_undo_after_from_stones_takes_back_a_stone_of_the_winning_row():
    # The winning row is not listed last; the move order that from_stones makes up must end on it.
    g = Gomoku.from_stones(["a1", "b1", "c1", "d1", "e1", "o14"], ["a3", "b3", "c3", "o15", "n15"])
    assert g.winner == 1
    taken = g.notation(g.undo())
    assert taken in {"a1", "b1", "c1", "d1", "e1"} and g.winner == 0 and g.to_move == 1
    g.play(taken)
    assert g.winner == 1


def test_from_stones_refuses_two_wins_no_single_move_could_make():
    black = ["a1", "b1", "c1", "d1", "e1", "a10", "b10", "c10", "d10", "e10"]
    white = ["a3", "c3", "e3", "g3", "i3", "a5", "c5", "e5", "g5"]
    with pytest.raises(ValueError, match="no single last move"):
        Gomoku.from_stones(black, white)


def test_from_stones_sees_a_renju_draw():
    drawn = Gomoku.from_moves(
        [10, 32, 22, 21, 27, 30, 17, 34, 31, 9, 1, 11, 28, 5, 15, 16, 12, 4, 13, 8, 23, 0, 14, 33, 29, 6, 25, 18]
        + [24, 2, 19, 3, 35, 20],
        size=6,
        rule="renju",
    )
    black = [m for m in range(36) if drawn.board[m] == 1]
    white = [m for m in range(36) if drawn.board[m] == 2]
    g = Gomoku.from_stones(black, white, size=6, rule="renju")
    assert g.winner == 3 and g.legal_moves() == []


def test_renju_black_left_with_only_forbidden_points_is_a_draw():
    # Found by random playouts on 6x6: after white's c3, black's only empty points are b5 and c2,
    # and each makes six in a row (b1-b6, a2-f2).
    moves = [10, 32, 22, 21, 27, 30, 17, 34, 31, 9, 1, 11, 28, 5, 15, 16, 12, 4, 13, 8, 23, 0, 14, 33, 29, 6, 25, 18]
    moves += [24, 2, 19, 3, 35, 20]
    g = Gomoku.from_moves(moves[:-1], size=6, rule="renju")
    assert g.winner == 0 and g.to_move == 2
    g.play(moves[-1])
    assert g.winner == 3 and g.is_over and g.legal_moves() == []
    g.undo()
    g.play(moves[-1])
    assert g.winner == 3
    # The same stones in freestyle: black may still play, and either point wins.
    free = Gomoku.from_moves(moves, size=6, rule="freestyle")
    assert free.winner == 0 and free.legal_moves() == [1 * 6 + 1, 4 * 6 + 2]


def test_the_rules_layer_never_imports_torch():
    import subprocess
    import sys

    code = "import sys, games.gomoku, games.records, games.playout; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_mask_kernel_wrapper_checks_its_array():
    from games.renju import forbidden_mask

    with pytest.raises(ValueError, match="int8 array of shape \\(225,\\)"):
        forbidden_mask(np.zeros(10, dtype=np.int8), 15)
    with pytest.raises(ValueError, match="int8"):
        forbidden_mask(np.zeros(225, dtype=np.int64), 15)
