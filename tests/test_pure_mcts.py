"""The pure MCTS player: its tactics, its tree, its legality under every rule, and its strength floor."""

import numpy as np
import pytest

from azero.search.pure_mcts import DRAW_NODE, LOSS_NODE, NO_PARENT, NOT_EXPANDED, ROOT, WIN_NODE, PureMCTS
from games.constants import DRAW, ONGOING, RULES
from games.gomoku import Gomoku
from games.randomplay import play_random_nearby


def test_it_takes_an_immediate_win():
    # Black has an open four c5-f5 on 9x9; b5 and g5 both win at once.
    game = Gomoku.from_moves(["c5", "c8", "d5", "d8", "e5", "e8", "f5", "a1"], size=9)
    for seed in range(3):
        assert game.notation(PureMCTS(1000, seed=seed).choose_move(game)) in {"b5", "g5"}


def test_it_blocks_a_four():
    # White has c3-f3 with b3 blocked by black: g3 is white's only winning point, and black has no win of its own.
    game = Gomoku.from_moves(["b3", "c3", "h8", "d3", "a8", "e3", "h1", "f3"], size=9)
    for seed in range(3):
        assert game.notation(PureMCTS(1000, seed=seed).choose_move(game)) == "g3"


def test_it_prefers_its_own_win_to_blocking():
    # Both sides have a four; black to move wins at e1 rather than blocking at e3.
    game = Gomoku.from_moves(["a1", "a3", "b1", "b3", "c1", "c3", "d1", "d3"], size=9)
    assert game.notation(PureMCTS(500, seed=0).choose_move(game)) == "e1"


@pytest.mark.parametrize("playouts", [1, 7, 100, 1000])
def test_visit_counts_sum_to_the_playouts_and_sit_on_legal_points(playouts):
    rng = np.random.default_rng(playouts)
    game = play_random_nearby(Gomoku(size=9), rng, max_moves=10)
    counts = PureMCTS(playouts, seed=1).visit_counts(game)
    assert counts.shape == (81,)
    assert counts.sum() == playouts
    assert not counts[~game.legal_mask()].any()


def test_the_same_seed_repeats_the_search():
    game = play_random_nearby(Gomoku(size=15), np.random.default_rng(5), max_moves=20)
    first, second = PureMCTS(300, seed=42), PureMCTS(300, seed=42)
    np.testing.assert_array_equal(first.visit_counts(game), second.visit_counts(game))
    assert first.choose_move(game) == second.choose_move(game)


def test_growing_the_arrays_mid_search_changes_nothing():
    """Starting from a one-node array forces many stops and regrowths; the tree must come out the same."""
    game = play_random_nearby(Gomoku(size=9), np.random.default_rng(6), max_moves=12)
    roomy = PureMCTS(400, seed=9)._grow_tree(game)
    cramped = PureMCTS(400, seed=9)._grow_tree(game, capacity=1)
    assert roomy.node_count == cramped.node_count
    for name, _ in roomy.FIELDS:
        used = roomy.node_count
        np.testing.assert_array_equal(getattr(roomy, name)[:used], getattr(cramped, name)[:used])


def replay_to(game, tree, node):
    """The position at ``node``: ``game`` plus the moves down the tree (Gomoku.play rejects any illegal one)."""
    moves = []
    while tree.parent[node] != NO_PARENT:
        moves.append(int(tree.move[node]))
        node = int(tree.parent[node])
    position = game.copy()
    for move in reversed(moves):
        position.play(move)
    return position


def wins_at_once(position, move):
    after = position.copy()
    after.play(move)
    return after.winner == position.to_move


@pytest.mark.parametrize("rule", list(RULES))
def test_every_node_of_the_tree_is_a_legal_position_with_the_right_children(rule):
    """Walk whole trees: children are exactly the legal moves, terminal flags agree with the rules."""
    rng = np.random.default_rng(11)
    nodes_checked = forbidden_seen = losses_seen = 0
    for trial in range(6):
        game = play_random_nearby(Gomoku(size=15, rule=rule), rng, max_moves=int(rng.integers(20, 60)))
        if game.is_over:
            continue
        tree = PureMCTS(300, seed=trial)._grow_tree(game)
        for node in range(tree.node_count):
            if node != ROOT and tree.visits[node] == 0:
                continue  # never reached: its move was not played yet
            position = replay_to(game, tree, node)
            nodes_checked += 1
            if tree.outcome[node] == WIN_NODE:
                assert position.winner == 3 - position.to_move
            elif tree.outcome[node] == DRAW_NODE:
                assert position.winner == DRAW
            elif tree.outcome[node] == LOSS_NODE:
                assert position.winner == ONGOING and node != ROOT
                assert any(wins_at_once(position, move) for move in position.legal_moves())
                losses_seen += 1
            else:
                assert position.winner == ONGOING
                if node != ROOT:  # a visited node was checked for the opponent's win on its first visit
                    assert not any(wins_at_once(position, move) for move in position.legal_moves())
            if tree.first_child[node] != NOT_EXPANDED:
                first = int(tree.first_child[node])
                children = {int(m) for m in tree.move[first : first + int(tree.child_count[node])]}
                assert children == set(position.legal_moves())
                forbidden_seen += bool(position.forbidden_moves())
    assert nodes_checked > 100 and losses_seen > 0
    if rule == "renju":
        assert forbidden_seen >= 3  # the trees did expand black positions with forbidden points


@pytest.mark.parametrize("rule", list(RULES))
def test_it_plays_only_legal_moves_on_random_positions(rule):
    rng = np.random.default_rng(12)
    forbidden_positions = 0
    for trial in range(25):
        size = int(rng.choice([9, 15]))
        game = play_random_nearby(Gomoku(size=size, rule=rule), rng, max_moves=int(rng.integers(0, 70)))
        if game.is_over:
            continue
        forbidden = set(game.forbidden_moves())
        forbidden_positions += bool(forbidden)
        player = PureMCTS(int(rng.integers(1, 200)), seed=trial)
        counts = player.visit_counts(game)
        assert not counts[~game.legal_mask()].any()
        move = player.choose_move(game)
        assert game.is_legal(move) and move not in forbidden
    if rule == "renju":
        assert forbidden_positions >= 3  # the test did meet black positions with forbidden points


def test_it_beats_random_play():
    rng = np.random.default_rng(3)
    player = PureMCTS(200, seed=3)
    wins = 0
    for game_number in range(10):
        game = Gomoku(size=9)
        bot_color = 1 + game_number % 2
        while not game.is_over:
            if game.to_move == bot_color:
                game.play(player.choose_move(game))
            else:
                game.play(int(rng.choice(game.legal_moves())))
        wins += game.winner == bot_color
    assert wins >= 9


@pytest.mark.parametrize("playouts", [0, -5, 1.5, "100", True, None])
def test_bad_playouts_are_refused(playouts):
    with pytest.raises(ValueError, match="playouts must be a positive integer"):
        PureMCTS(playouts)


@pytest.mark.parametrize("c_uct", [-1.0, float("nan"), float("inf"), "1.4"])
def test_bad_exploration_constants_are_refused(c_uct):
    with pytest.raises(ValueError, match="c_uct"):
        PureMCTS(100, c_uct=c_uct)


@pytest.mark.parametrize("seed", [-1, 2.5, "7"])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        PureMCTS(100, seed=seed)


def test_no_move_once_the_game_is_over():
    game = Gomoku.from_moves(["a1", "a3", "b1", "b3", "c1", "c3", "d1", "d3", "e1"], size=9)
    with pytest.raises(ValueError, match="game is over"):
        PureMCTS(10).choose_move(game)
    with pytest.raises(ValueError, match="game is over"):
        PureMCTS(10).visit_counts(game)
