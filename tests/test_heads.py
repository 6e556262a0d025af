"""KataGo's two auxiliary heads: a win/draw/loss value head and the opponent's-reply policy head.

From the self-play target (the reply actually played) through the shard and
the replay window to the loss, and through checkpoints to what search reads.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, save_checkpoint
from azero.model.evaluator import NetEvaluator, UniformEvaluator
from azero.model.network import NetConfig, PolicyValueNet, copy_weights_across_heads, fold_batch_norm
from azero.model.planes import NUM_PLANES
from azero.search.searcher import SearchConfig
from azero.train.config import ConfigError, build_config
from games.constants import BLACK, WHITE
from selfplay.engine import SelfPlayConfig, SelfPlayEngine
from selfplay.shards import ShardError, decode_shard, encode_shard, shard_from_games

SMALL = dict(blocks=2, channels=16, global_pool_every=2, head_channels=8, value_hidden=16)


def random_planes(batch: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).random((batch, NUM_PLANES, size, size)).astype(np.float32))


def net_with(seed: int = 0, **heads) -> PolicyValueNet:
    torch.manual_seed(seed)
    return PolicyValueNet(NetConfig(**SMALL, **heads)).eval()


# -- the network -------------------------------------------------------------------------------------------


def test_the_wdl_value_is_the_win_probability_minus_the_loss_probability():
    net = net_with(value_head="wdl")
    with torch.no_grad():
        out = net.outputs(random_planes(16, 9))
        logits, value = net(random_planes(16, 9))
    probabilities = torch.softmax(out.wdl, dim=1)
    assert out.wdl.shape == (16, 3)
    assert torch.allclose(out.value, probabilities[:, 0] - probabilities[:, 2], atol=1e-6)
    assert torch.all(value.abs() <= 1)
    assert torch.equal(value, out.value) and torch.equal(logits, out.policy), "search reads what training shapes"


def test_the_scalar_net_has_neither_auxiliary_output():
    with torch.no_grad():
        out = net_with().outputs(random_planes(2, 7))
    assert out.wdl is None and out.opponent_policy is None


@pytest.mark.parametrize("heads", [dict(value_head="wdl"), dict(opponent_policy=True),
                                   dict(value_head="wdl", opponent_policy=True)])
def test_folding_batch_norm_keeps_the_outputs_of_nets_with_auxiliary_heads(heads):
    net = net_with(seed=1, **heads)
    net.train()
    for _ in range(3):  # move the running statistics off their defaults
        net(random_planes(8, 9, seed=2))
    net.eval()
    planes = random_planes(8, 9, seed=3)
    with torch.no_grad():
        want = net(planes)
        got = fold_batch_norm(net)(planes)
    assert torch.allclose(want[0], got[0], atol=1e-4) and torch.allclose(want[1], got[1], atol=1e-5)


def test_a_checkpoint_keeps_the_heads_and_the_evaluator_reads_the_wdl_value(tmp_path):
    net = net_with(seed=4, value_head="wdl", opponent_policy=True)
    config = net.config
    path = tmp_path / "heads.safetensors"
    save_checkpoint(path, net, CheckpointInfo(rule="freestyle", size=9, n_in_row=5, net=config.to_dict()))
    loaded, info = load_checkpoint(path)
    assert info.net["value_head"] == "wdl" and info.net["opponent_policy"] is True
    planes = random_planes(4, 9, seed=5)
    with torch.no_grad():
        want, got = net.outputs(planes), loaded.eval().outputs(planes)
    for name in ("policy", "value", "wdl", "opponent_policy"):
        assert torch.allclose(getattr(want, name), getattr(got, name), atol=1e-6), name
    _, values = NetEvaluator(loaded, "cpu")(planes.numpy())
    assert np.allclose(values, want.value.numpy(), atol=1e-4)


def test_a_checkpoint_written_before_the_heads_existed_loads_as_a_scalar_net(tmp_path):
    net = net_with(seed=6)
    old_metadata = {k: v for k, v in net.config.to_dict().items() if k not in ("value_head", "opponent_policy")}
    path = tmp_path / "old.safetensors"
    save_checkpoint(path, net, CheckpointInfo(rule="freestyle", size=9, n_in_row=5, net=old_metadata))
    loaded, info = load_checkpoint(path)
    assert loaded.config.value_head == "scalar" and loaded.config.opponent_policy is False


def test_a_checkpoint_whose_weights_do_not_fit_its_value_head_is_refused(tmp_path):
    net = net_with(seed=7)  # a scalar head ...
    path = tmp_path / "lying.safetensors"
    save_checkpoint(path, net, CheckpointInfo(rule="freestyle", size=9, n_in_row=5,
                                              net={**net.config.to_dict(), "value_head": "wdl"}))  # ... called wdl
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@pytest.mark.parametrize("override, words", [('net.value_head="mse"', "value_head must be one of scalar, wdl"),
                                             ("net.opponent_policy=2", "opponent_policy")])
def test_a_bad_head_setting_is_one_clear_error(override, words):
    with pytest.raises(ConfigError, match=words):
        build_config("gomoku9", [override])


def test_the_presets_train_both_heads():
    for preset in ("gomoku8", "gomoku9", "gomoku15", "renju15"):
        net = build_config(preset, []).net
        assert net.value_head == "wdl" and net.opponent_policy is True, preset


# -- seeding a net with other heads (train.init_from of a scalar checkpoint into a run with the heads) -------


def test_a_scalar_net_seeds_a_wdl_net_with_the_same_policy_and_a_value_of_the_same_sign():
    source = net_with(seed=8)
    target = net_with(seed=9, value_head="wdl", opponent_policy=True)
    changes = copy_weights_across_heads(target, source)
    assert changes == ["value head scalar -> wdl", "the opponent-reply head starts fresh"]
    planes = random_planes(64, 9, seed=10)
    with torch.no_grad():
        want, got = source.outputs(planes), target.outputs(planes)
    assert torch.equal(want.policy, got.policy)
    assert torch.equal(torch.sign(want.value), torch.sign(got.value))
    order = torch.argsort(want.value)
    assert torch.all(got.value[order][1:] >= got.value[order][:-1]), "the values keep their order"


def test_scalar_to_wdl_and_back_gives_the_scalar_net_again():
    source = net_with(seed=11)
    wdl = net_with(seed=12, value_head="wdl")
    copy_weights_across_heads(wdl, source)
    back = net_with(seed=13)
    assert copy_weights_across_heads(back, wdl) == ["value head wdl -> scalar"]
    for name, tensor in source.state_dict().items():
        assert torch.equal(back.state_dict()[name], tensor), name


def test_a_net_of_another_trunk_cannot_seed_by_heads():
    with pytest.raises(ValueError, match="more than their heads"):
        copy_weights_across_heads(PolicyValueNet(NetConfig(**{**SMALL, "channels": 8})), net_with())


def test_a_run_with_the_heads_starts_from_a_scalar_checkpoint(tmp_path):
    source_net = net_with(seed=14)
    source = tmp_path / "scalar.safetensors"
    save_checkpoint(source, source_net, CheckpointInfo(rule="freestyle", size=7, n_in_row=4,
                                                        net=source_net.config.to_dict(), step=5))
    said = []
    learner = learner_with_heads(tmp_path, f"net.blocks={SMALL['blocks']}", f"net.global_pool_every={SMALL['global_pool_every']}",
                                 'net.value_head="wdl"', "net.opponent_policy=true", f'train.init_from="{source}"')
    learner.log = said.append
    learner.resume_or_start()
    assert "train.init_from: value head scalar -> wdl" in said
    assert "train.init_from: the opponent-reply head starts fresh" in said
    for name, tensor in source_net.state_dict().items():
        if not name.startswith("value_fc.2"):
            assert torch.equal(learner.net.state_dict()[name].cpu(), tensor), name


# -- the opponent's reply, from self-play to the shard ----------------------------------------------------


def selfplay_games(full_search_fraction: float, games: int = 12, seed: int = 0):
    config = SelfPlayConfig(simulations=12, fast_simulations=4 if full_search_fraction < 1 else 12,
                            full_search_fraction=full_search_fraction, games_per_worker=6, temperature_moves=4,
                            resign_threshold=-1.0)
    engine = SelfPlayEngine(7, "freestyle", 4, UniformEvaluator(), SearchConfig(), config, seed=seed)
    finished = []
    while len(finished) < games:
        finished += engine.step()
    return finished


def test_with_every_move_searched_in_full_the_reply_is_the_next_positions_move():
    for game in selfplay_games(full_search_fraction=1.0):
        boards, reply = game.boards, game.reply
        assert len(boards) == game.length and reply[-1] == -1, "the last move ends the game: no reply"
        for i in range(len(boards) - 2):
            played_next = np.flatnonzero(boards[i + 2] != boards[i + 1])
            assert played_next.tolist() == [reply[i]]
        assert boards[-1][reply[-2]] == 0 and reply[-2] >= 0, "the winning move answers the one before it"


def test_with_playout_cap_randomization_every_reply_is_the_opponents_next_stone():
    checked = 0
    for game in selfplay_games(full_search_fraction=0.4, games=16, seed=1):
        stones = np.count_nonzero(game.boards, axis=1)
        for i in range(len(game.boards)):
            if game.reply[i] < 0:
                assert stones[i] + 1 == game.length, "only the game's last move has no reply"
                continue
            opponent = WHITE if game.to_move[i] == BLACK else BLACK
            assert game.boards[i][game.reply[i]] == 0
            later = np.flatnonzero(stones >= stones[i] + 2)
            assert all(game.boards[j][game.reply[i]] == opponent for j in later)
            checked += len(later)
    assert checked > 100


def test_replies_travel_through_a_shard_and_old_shards_read_without_them():
    games = selfplay_games(full_search_fraction=1.0, games=3)
    shard = shard_from_games(games, {"size": 7, "rule": "freestyle", "n_in_row": 4})
    back = decode_shard(encode_shard(shard), "new")
    assert np.array_equal(back.reply, np.concatenate([g.reply for g in games]))

    import io
    arrays = {name: getattr(shard, name) for name in shard.__dataclass_fields__ if name not in ("meta", "reply")}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array('{"size": 7}'), **arrays)
    old = decode_shard(buffer.getvalue(), "old", size=7)
    assert old.positions == shard.positions and np.all(old.reply == -1)


@pytest.mark.parametrize("field, value", [("reply", 49), ("reply", -2), ("outcome", 3)])
def test_a_shard_with_out_of_range_targets_is_refused(field, value):
    shard = shard_from_games(selfplay_games(full_search_fraction=1.0, games=1), {"size": 7})
    getattr(shard, field)[0] = value
    with pytest.raises(ShardError, match="a reply off the board|an outcome other than -1, 0 or 1"):
        decode_shard(encode_shard(shard), "bad", size=7)


# -- the losses learn their targets ---------------------------------------------------------------------------


def learner_with_heads(tmp_path, *overrides):
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "run")
    folder.create()
    config = build_config("gomoku9", ["game.size=7", "game.n_in_row=4", "net.blocks=1", "net.channels=16",
                                      "net.head_channels=8", "net.value_hidden=16", "train.batch_size=32",
                                      "train.lr_warmup_steps=0", "train.lr=3e-3", "eval.every_checkpoints=0",
                                      "net.value_head=scalar", "net.opponent_policy=false", *overrides])
    return Learner(config, folder, log=lambda message: None)


def test_both_auxiliary_losses_fall_as_the_net_learns_a_fixed_set_of_games(tmp_path):
    # A full weight on the reply loss, so its fall is plain within a test's few hundred steps.
    learner = learner_with_heads(tmp_path, 'net.value_head="wdl"', "net.opponent_policy=true",
                                 "train.opponent_policy_weight=1.0")
    games = selfplay_games(full_search_fraction=1.0, games=4, seed=2)
    learner.window.add(shard_from_games(games, {"size": 7, "rule": "freestyle", "n_in_row": 4}))
    first = np.array([learner.train_step() for _ in range(5)]).mean(axis=0)
    for _ in range(250):
        learner.train_step()
    last = np.array([learner.train_step() for _ in range(5)]).mean(axis=0)
    policy, value, opponent = first
    assert np.isfinite(first).all() and np.isfinite(last).all()
    assert value > 0.5, "win/draw/loss cross-entropy of an untrained net is about ln 3"
    assert last[1] < 0.5 * value and last[2] < 0.6 * opponent, (first, last)


def test_without_the_head_there_is_no_opponent_loss(tmp_path):
    learner = learner_with_heads(tmp_path)
    learner.window.add(shard_from_games(selfplay_games(full_search_fraction=1.0, games=1),
                                        {"size": 7, "rule": "freestyle", "n_in_row": 4}))
    policy, value, opponent = learner.train_step()
    assert np.isfinite(policy) and np.isfinite(value) and np.isnan(opponent)
