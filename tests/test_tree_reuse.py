"""Tree reuse in play: a NetPlayer keeps the searched subtree between its moves (window, protocol engine, arena)."""

import numpy as np
from test_search import HashEvaluator

from azero.players.network import NetPlayer, play_search_config
from azero.search.searcher import SearchConfig
from games.gomoku import Gomoku


def player(simulations=200, reuse=True, size=9):
    config = play_search_config(size)
    config.tree_reuse = reuse
    return NetPlayer(HashEvaluator(), simulations, config)


def evaluations(p):
    """Simulations the player's searcher has run (network leaves and exact ones)."""
    return p._searcher.simulations


def test_the_next_move_starts_from_the_subtree_of_the_moves_played_since():
    p = player()
    game = Gomoku(9, "freestyle", 5)
    for opening in ("e5", "d4"):
        game.play(opening)
    ours = p.analyse(game)
    before = evaluations(p)
    game.play(ours.move)
    game.play(ours.line[1])  # the reply the search expected: its subtree holds many visits already
    p.choose_moves([game])
    reused = evaluations(p) - before
    assert 0 < reused < 200  # the reused visits count towards the 200
    assert p.last_simulations[0] >= 200


def test_without_reuse_every_move_is_searched_from_scratch():
    p = player(reuse=False)
    game = Gomoku(9, "freestyle", 5)
    game.play("e5")
    ours = p.analyse(game)
    before = evaluations(p)
    game.play(ours.move)
    game.play(ours.line[1])
    p.choose_moves([game])
    assert evaluations(p) - before >= 200


def test_a_position_that_does_not_continue_the_last_one_is_searched_afresh():
    p = player()
    game = Gomoku(9, "freestyle", 5)
    game.play("e5")
    p.choose_moves([game])
    game.undo()
    game.play("a1")  # another game: the old tree must not be used
    before = evaluations(p)
    move = p.choose_moves([game])[0]
    assert evaluations(p) - before >= 200
    assert game.is_legal(move)


def test_games_keep_their_trees_when_the_list_of_games_shrinks():
    """The arena asks for the games whose turn it is; as games end, a game's index in that list changes."""
    p = player(simulations=100)
    games = [Gomoku(9, "freestyle", 5) for _ in range(3)]
    for game, opening in zip(games, ("e5", "c3", "g7")):
        game.play(opening)
    first = p.choose_moves(games)
    for game, move in zip(games, first):
        game.play(move)
        game.play(int(np.flatnonzero(game.legal_mask())[0]))
    before = evaluations(p)
    again = p.choose_moves(games[1:])  # the first game ended
    assert all(g.is_legal(m) for g, m in zip(games[1:], again))
    fresh = NetPlayer(HashEvaluator(), 100, SearchConfig(tree_reuse=False))
    fresh.choose_moves(games[1:])
    assert evaluations(p) - before <= fresh._searcher.simulations  # nothing searched twice, some visits kept
