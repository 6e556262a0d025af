"""The tactics suite: real 15x15 positions where a VCT decides and a VCF does not see it (issue 18's targets).

tests/data/tactics_suite.json holds, from arena games, positions where the
side to move has a VCT but no VCF (``win``) and positions where the
opponent has a VCT that some move refutes (``defend``);
docs/vct/make_tactics_suite.py chose them by those facts alone.  The search
at 200 simulations, with a network-free evaluator so only the search is
judged, must play a winning move in every ``win`` position and a refuting
move in every ``defend`` position.  Each move is checked one ply further
with the solver: after a winning move, every reply of the defender leaves
the attacker a win; after a refuting move, the opponent has no VCT.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from azero import vct
from azero.evaluator import UniformEvaluator
from azero.players import NetPlayer, play_search_config
from games.constants import EMPTY
from games.gomoku import Gomoku
from games.renju import new_three_stack

SUITE = json.loads((Path(__file__).parent / "data" / "tactics_suite.json").read_text())
CHECK_BUDGET = 20000  # the solver's nodes when a move is checked (the suite was chosen with the same)
CHECK_DEPTH = 6
CHUNK = 20


def games(kind):
    return [Gomoku.from_moves(p["moves"].split(), 15, p["rule"], 5) for p in SUITE[kind]]


def has_vct(board, attacker, rule_code):
    frames, stack = new_three_stack()
    state = vct.new_state(15)
    return vct.find_vct_with(state, board, 15, attacker, 5, rule_code, CHECK_DEPTH, CHECK_BUDGET, frames,
                             stack) != vct.NO_VCT


def every_reply_loses(game: Gomoku) -> bool:
    """The defender to move in ``game``: does each legal reply leave the attacker a forced win?"""
    board = game.board.copy()
    attacker = 3 - game.to_move
    for reply in np.flatnonzero(game.legal_mask()):
        board[reply] = game.to_move
        lost = has_vct(board, attacker, game.rule_code)
        board[reply] = EMPTY
        if not lost:
            return False
    return True


def test_the_suite_is_large_enough():
    assert len(SUITE["win"]) >= 100 and len(SUITE["defend"]) >= 100


@pytest.mark.parametrize("start", range(0, 120, CHUNK))
def test_the_search_plays_the_winning_move_of_a_vct(start):
    positions = games("win")[start:start + CHUNK]
    player = NetPlayer(UniformEvaluator(), 200, play_search_config(15))
    for i, game in enumerate(positions):
        move = player.choose_moves([game])[0]
        game.play(move)
        assert game.winner or every_reply_loses(game), f"win position {start + i}: {game.notation(move)} does not win"


@pytest.mark.parametrize("start", range(0, 120, CHUNK))
def test_the_search_plays_a_move_that_refutes_the_opponents_vct(start):
    positions = games("defend")[start:start + CHUNK]
    player = NetPlayer(UniformEvaluator(), 200, play_search_config(15, defence=True))
    for i, game in enumerate(positions):
        move = player.choose_moves([game])[0]
        opponent = 3 - game.to_move
        game.play(move)
        assert not has_vct(game.board.copy(), opponent, game.rule_code), \
            f"defend position {start + i}: after {game.notation(move)} the opponent still has a VCT"
