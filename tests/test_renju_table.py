"""Hand-checked renju positions: the engine must find exactly the forbidden points marked '#'."""

import pytest
from reference_rules import forbidden_points
from renju_positions import CASES

from games.gomoku import Gomoku

SIZE = 15
PADDING_ROW = SIZE - 1  # white stones that put black to move go on the bottom row, far from the shapes


def build(case):
    """(game, expected forbidden moves, points marked '+' as allowed) for a case."""
    black, white, expected, allowed = [], [], [], []
    ox, oy = case.origin
    for dy, row in enumerate(case.diagram):
        for dx, symbol in enumerate(row.split()):
            move = (oy + dy) * SIZE + ox + dx
            {"X": black, "O": white, "#": expected, "+": allowed, ".": []}[symbol].append(move)
    assert all(move // SIZE <= PADDING_ROW - 5 for move in black), "black stones too close to the padding row"
    padding = [PADDING_ROW * SIZE + x for x in range(0, SIZE, 2)] + [(PADDING_ROW - 1) * SIZE + x for x in range(1, SIZE, 2)]
    missing = len(black) - len(white)
    assert 0 <= missing <= len(padding), "the diagram has more white stones than black"
    game = Gomoku.from_stones(black, white + padding[:missing], size=SIZE, rule="renju")
    assert game.to_move == 1 and not game.is_over
    return game, sorted(expected), allowed


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_forbidden_points_match_the_hand_checked_table(case):
    game, expected, allowed = build(case)
    found = game.forbidden_moves()
    assert found == expected, f"{case.name}: {case.why}\n{game.render()}"
    assert not set(allowed) & set(found)
    for move in expected:
        with pytest.raises(ValueError, match="forbidden"):
            game.play(move)
    for move in allowed:
        game.copy().play(move)  # an allowed point really can be played


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_reference_agrees_with_the_table(case):
    game, expected, _ = build(case)
    board = [[int(game.board[y * SIZE + x]) for x in range(SIZE)] for y in range(SIZE)]
    assert forbidden_points(board, SIZE) == expected


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith(("double_three", "double_four", "overline_gap",
                                                                         "overline_end", "overline_diagonal"))],
                         ids=lambda c: c.name)
def test_the_reason_a_point_is_forbidden_is_named(case):
    """The window explains a refused click: double three, double four or overline."""
    from games.renju import forbidden_reason

    game, expected, allowed = build(case)
    kind = "double three" if case.name.startswith("double_three") else \
        "double four" if case.name.startswith("double_four") else "overline"
    reasons = {move: forbidden_reason(game.board, SIZE, move) for move in expected}
    assert kind in reasons.values() or not expected, (case.name, reasons)  # some cases show an allowed point
    assert all(reason is not None for reason in reasons.values())
    assert all(forbidden_reason(game.board, SIZE, move) is None for move in allowed)
