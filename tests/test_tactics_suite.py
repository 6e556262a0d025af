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

from azero.model.evaluator import UniformEvaluator
from azero.players.network import NetPlayer, play_search_config
from azero.search import mcts, vct
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


# -- the reply check: VCT nodes at each of the root's children (search.vct_reply_budget, az:...:replyvct=N) --


def root_children(searcher, g):
    """(move, visits, proven) for each child of slot ``g``'s root."""
    ints = searcher.ints[g]
    first = ints[mcts.ROOT, mcts.FIRST_CHILD]
    return [(int(ints[c, mcts.MOVE]), int(ints[c, mcts.VISITS]), int(ints[c, mcts.STATE]) == mcts.TERMINAL)
            for c in range(first, first + ints[mcts.ROOT, mcts.NUM_CHILDREN])]


def test_the_reply_check_proves_the_moves_that_leave_the_opponent_a_vct_lost_and_avoids_them():
    """Without threat defence, each root child gets the reply budget: a move that leaves the opponent a VCT is
    a proven loss (every such proof checked with the solver), and the search plays none of them."""
    budget = 3000
    proven, played_a_proven_loss = 0, []
    for i, game in enumerate(games("defend")[:6]):
        player = NetPlayer(UniformEvaluator(), 200, play_search_config(15, reply_vct=budget))
        move = player.choose_moves([game])[0]
        opponent = 3 - game.to_move
        frames, stack = new_three_stack()
        for child_move, visits, terminal in root_children(player._searcher, int(player._last_slots[0])):
            if not terminal:
                continue
            board = game.board.copy()
            board[child_move] = game.to_move
            assert vct.find_vct_with(vct.new_state(15), board, 15, opponent, 5, game.rule_code, CHECK_DEPTH,
                                     budget, frames, stack) != vct.NO_VCT, f"position {i}: {game.notation(child_move)}"
            proven += 1
            if child_move == move:
                played_a_proven_loss.append(i)
    assert proven >= 20  # the check did prove moves lost: these positions have many
    assert not played_a_proven_loss


def test_without_the_reply_check_no_root_child_is_proven_lost_by_the_opponents_vct():
    """The counterpart: the search before the check judged those children only as leaves, with no VCT."""
    game = games("defend")[0]
    player = NetPlayer(UniformEvaluator(), 200, play_search_config(15))
    player.choose_moves([game])
    assert not any(terminal for _, _, terminal in root_children(player._searcher, int(player._last_slots[0])))


def test_a_kept_tree_whose_visited_move_now_loses_to_a_vct_is_searched_afresh():
    """Tree reuse: the kept root's children were judged as grandchildren, without the reply budget.  When one of
    the visited ones leaves the opponent a VCT, the tree is reset, so the fresh search judges them again."""
    budget = 3000
    checked = 0
    for game in games("defend")[:6]:
        parent = Gomoku.from_moves(game.moves[:-1], 15, game.rule, 5)
        player = NetPlayer(UniformEvaluator(), 400, play_search_config(15, reply_vct=budget))
        player.choose_moves([parent])
        searcher, g = player._searcher, int(player._last_slots[0])
        searcher.play(g, game.moves[-1], judge=True)
        frames, stack = new_three_stack()
        opponent = 3 - game.to_move
        for child_move, visits, terminal in root_children(searcher, g):
            if visits == 0 or terminal:
                continue
            board = game.board.copy()
            board[child_move] = game.to_move
            assert vct.find_vct_with(vct.new_state(15), board, 15, opponent, 5, game.rule_code, CHECK_DEPTH,
                                     budget, frames, stack) == vct.NO_VCT, game.notation(child_move)
            checked += 1
        if searcher.ints[g, mcts.ROOT, mcts.VISITS] == 0:
            checked += 1  # reset: nothing kept to check
    assert checked > 0
