"""The search kernels' arguments (issue 21): named tuples, built once, documented field by field."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from azero.model.evaluator import UniformEvaluator
from azero.model.planes import NUM_PLANES
from azero.search import mcts, pure_mcts
from azero.search.searcher import SearchConfig, Searcher
from games.gomoku import Gomoku

KERNELS = [mcts.select_leaves, mcts.expand_and_backup, mcts.advance_root, mcts.judge_quiet_leaf, mcts.reset_tree,
           mcts.add_root_noise, mcts.pruned_policy_into, mcts.root_visits_into, mcts.root_value,
           pure_mcts.run_playouts, pure_mcts.root_statistics]
TUPLES = [mcts.Forest, mcts.SearchParams, mcts.LeafBatch, mcts.Scratch, pure_mcts.Nodes, pure_mcts.PlayoutParams]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_a_kernel_takes_a_handful_of_arguments(kernel):
    assert len(inspect.signature(kernel.py_func).parameters) <= 8


@pytest.mark.parametrize("kind", TUPLES, ids=lambda t: t.__name__)
def test_every_field_of_a_kernel_tuple_is_documented(kind):
    for name in kind._fields:
        assert f"``{name}``" in kind.__doc__, f"{kind.__name__}.{name} is not in its docstring"


def test_the_forest_has_the_documented_shapes_and_types():
    games, nodes, size = 3, 50, 9
    forest = mcts.new_forest(games, nodes, size)
    expected = {
        "ints": ((games, nodes, mcts.INT_FIELDS), np.int32), "floats": ((games, nodes, mcts.FLOAT_FIELDS), np.float32),
        "node_count": ((games,), np.int32), "root_board": ((games, size * size), np.int8),
        "root_to_move": ((games,), np.int32), "root_last": ((games,), np.int32),
        "noise_pending": ((games,), np.bool_), "root_quiet": ((games,), np.bool_),
        "targets": ((games,), np.int32), "forced": ((games,), np.bool_),
    }
    assert set(expected) == set(mcts.Forest._fields)
    for name, (shape, dtype) in expected.items():
        array = getattr(forest, name)
        assert array.shape == shape and array.dtype == dtype, name
    assert (forest.node_count == 1).all() and (forest.root_last == mcts.NO_MOVE).all()
    assert (forest.ints[:, mcts.ROOT, mcts.PARENT] == mcts.NO_NODE).all()
    batch = mcts.new_leaf_batch(4, size, NUM_PLANES)
    assert batch.planes.shape == (4, NUM_PLANES, size, size) and batch.candidates.shape == (4, size * size)


def test_kernel_params_have_one_type_per_field_whatever_the_config_holds():
    """An int where a float is meant (a config file's ``c_puct = 2``) must not compile the kernels anew."""
    reference = SearchConfig().kernel_params(9, 5, 0)
    odd = SearchConfig(c_puct=2, fpu_reduction=0, forced_k=1, dirichlet_alpha=0, noise_fraction=1,
                       tactics=1, threat_defence=1).kernel_params(np.int64(9), 5, 0)
    assert [type(v) for v in odd] == [type(v) for v in reference]
    assert isinstance(odd.c_puct, float) and isinstance(odd.use_tactics, bool) and isinstance(odd.size, int)


def test_without_tactics_every_tactic_budget_is_off():
    params = SearchConfig(tactics=False, vcf_budget=9, vct_budget=9, vct_reply_budget=9, vct_root_budget=9,
                          threat_defence=True).kernel_params(9, 5, 0)
    assert (params.vcf_budget, params.vct_budget, params.reply_vct_budget, params.root_vct_budget) == (0, 0, 0, 0)
    assert not params.use_defence and not params.use_tactics


def test_the_searcher_builds_its_tuples_once_and_again_when_the_config_changes():
    config = SearchConfig()
    game = Gomoku(9)
    searcher = Searcher(9, game.rule_code, 5, 1, UniformEvaluator(), config, 50, seed=0)
    assert searcher.ints is searcher.forest.ints and searcher.targets is searcher.forest.targets
    searcher.set_position(0, game)
    params = searcher.params
    searcher.search([0], 20)
    assert searcher.params is params  # not rebuilt per step
    config.vct_root_budget = 123  # a player cuts its budget between searches (azero/players/network.py)
    assert searcher.params.root_vct_budget == 123
    config.vct_root_budget = 0
    assert searcher.params.root_vct_budget == 0


def test_the_step_kernels_take_named_or_plain_tuples_alike():
    """The Searcher passes plain tuples (numba types them faster); a caller may pass the named ones."""
    game = Gomoku(9)
    game.play(40)
    config = SearchConfig(leaves_per_game=2)
    plain = Searcher(9, game.rule_code, 5, 2, UniformEvaluator(), config, 60, seed=3)
    named = Searcher(9, game.rule_code, 5, 2, UniformEvaluator(), config, 60, seed=3)
    games = np.arange(2, dtype=np.int32)
    for s in (plain, named):
        for g in games:
            s.set_position(int(g), game)
            s.begin(int(g), 40, forced=True)
    while plain.unfinished(games).size:
        plain.step(plain.unfinished(games))
        active = named.unfinished(games)
        count, _ = mcts.select_leaves(named.forest, named.batch, named.scratch, named.params, active)
        logits = np.zeros((count, 81), dtype=np.float32)
        values = np.zeros(count, dtype=np.float32)
        mcts.expand_and_backup(named.forest, named.batch, count, logits, values, named.params)
    for a, b in zip(plain.forest, named.forest):
        np.testing.assert_array_equal(a, b)
