"""One training step (azero.train.step) computes exactly the AlphaZero losses and one AdamW update.

The expected losses are computed here from the formulas, independently of
the code under test (log-sum-exp over the empty points, the win/draw/loss
classes by their meaning), on a fixed tiny batch from a fixed net.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from azero.model.network import NetConfig, PolicyValueNet
from azero.model.planes import LAST_MOVE, OPPONENT, OWN
from azero.train.config import TrainerConfig, build_config
from azero.train.step import StepLosses, learning_rate, make_optimizer, training_step
from selfplay.replay import ReplayWindow
from selfplay.shards import Shard

SIZE = 7
POINTS = SIZE * SIZE


def random_shard(positions: int = 24, seed: int = 0, replies: bool = True) -> Shard:
    """Positions of 0-10 random stones, black first; a random search distribution over the empty points, a random
    outcome, and (unless ``replies`` is false) a reply on an empty point for about two positions in three."""
    rng = np.random.default_rng(seed)
    boards = np.zeros((positions, POINTS), np.int8)
    to_move = np.zeros(positions, np.int8)
    last_move = np.full(positions, -1, np.int16)
    policy = np.zeros((positions, POINTS), np.float32)
    reply = np.full(positions, -1, np.int16)
    for p in range(positions):
        stones = rng.choice(POINTS, size=int(rng.integers(0, 11)), replace=False)
        boards[p, stones] = np.where(np.arange(len(stones)) % 2 == 0, 1, 2)
        to_move[p] = 1 if len(stones) % 2 == 0 else 2
        if len(stones):
            last_move[p] = stones[-1]
        empty = np.flatnonzero(boards[p] == 0)
        weights = rng.random(len(empty)) ** 4  # peaked, like a search's visits
        policy[p, empty] = weights / weights.sum()
        if replies and rng.random() < 2 / 3:
            reply[p] = rng.choice(empty)
    games = 2
    return Shard(boards=boards, to_move=to_move, last_move=last_move, policy=policy.astype(np.float16),
                 outcome=rng.integers(-1, 2, size=positions).astype(np.int8), reply=reply,
                 game_length=np.full(games, 10, np.int16), game_winner=np.full(games, 3, np.int8),
                 game_resigned=np.zeros(games, np.bool_), game_resign_checked=np.zeros(games, np.bool_),
                 game_resign_wrong=np.zeros(games, np.bool_),
                 meta={"size": SIZE, "rule": "freestyle", "n_in_row": 5, "worker": 0, "step": 0})


def fixed_batch(batch: int = 16, seed: int = 0, replies: bool = True):
    window = ReplayWindow(1000, SIZE, 0)
    window.add(random_shard(seed=seed, replies=replies))
    return window.sample(batch, np.random.default_rng(seed))


def tiny_net(value_head: str, opponent_policy: bool, seed: int = 0) -> PolicyValueNet:
    torch.manual_seed(seed)
    return PolicyValueNet(NetConfig(blocks=1, channels=8, global_pool_every=1, head_channels=4, value_hidden=8,
                                    value_head=value_head, opponent_policy=opponent_policy))


def expected_losses(net: PolicyValueNet, batch, value_weight: float, reply_weight: float):
    """(policy, value, opponent, total) from the formulas, in float64; opponent is None without a term."""
    net.train()
    out = net.outputs(torch.from_numpy(batch.planes))
    empty = torch.from_numpy((batch.planes[:, OWN] + batch.planes[:, OPPONENT]).reshape(len(batch.value), -1) == 0)
    target = torch.from_numpy(batch.policy).double()

    def log_probabilities(logits, row):  # log softmax over the empty points of position ``row`` only
        z = logits[row][empty[row]].double()
        return z - torch.logsumexp(z, dim=0)

    # Policy: -sum_a pi(a) log p(a) over the empty points, averaged over the batch.
    policy = torch.stack([-(target[b][empty[b]] * log_probabilities(out.policy, b)).sum()
                          for b in range(len(batch.value))]).mean()
    outcome = torch.from_numpy(batch.value).double()
    if out.wdl is None:  # the scalar value: squared error against the outcome
        value = ((out.value.double() - outcome) ** 2).mean()
    else:  # win/draw/loss: -log of the probability given to what happened to the side to move
        happened = {1.0: 0, 0.0: 1, -1.0: 2}  # the wdl logits are win, draw, loss
        log_wdl = torch.log_softmax(out.wdl.double(), dim=1)
        value = torch.stack([-log_wdl[b, happened[float(z)]] for b, z in enumerate(batch.value)]).mean()
    total = policy + value_weight * value
    opponent = None
    known = [b for b in range(len(batch.reply)) if batch.reply[b] >= 0]
    if out.opponent_policy is not None and known:
        # The reply played: -log of its probability among the empty points.
        opponent = torch.stack([-log_probabilities(out.opponent_policy, b)[int(empty[b][:batch.reply[b]].sum())]
                                for b in known]).mean()
        total = total + reply_weight * opponent
    return policy, value, opponent, total


HEADS = [("scalar", False), ("scalar", True), ("wdl", False), ("wdl", True)]


@pytest.mark.parametrize("value_head, opponent_policy", HEADS)
def test_the_step_computes_the_formulas_and_takes_one_adamw_step(value_head, opponent_policy):
    settings = TrainerConfig(lr=3e-3, weight_decay=0.01, value_loss_weight=0.7, opponent_policy_weight=0.3)
    batch = fixed_batch()
    assert (batch.reply >= 0).any() and (batch.reply < 0).any() and set(batch.value) == {-1.0, 0.0, 1.0}
    net = tiny_net(value_head, opponent_policy)
    reference = copy.deepcopy(net)  # the same weights and batch-norm state, for the formulas
    optimizer = make_optimizer(net, settings)

    losses = training_step(net, optimizer, batch, settings, lr=1.5e-3)

    policy, value, opponent, total = expected_losses(reference, batch, 0.7, 0.3)
    assert isinstance(losses, StepLosses)
    assert losses.policy == pytest.approx(policy.item(), rel=1e-5)
    assert losses.value == pytest.approx(value.item(), rel=1e-5)
    if opponent_policy:
        assert losses.opponent == pytest.approx(opponent.item(), rel=1e-5)
    else:
        assert math.isnan(losses.opponent)
    assert losses.as_tuple() == (losses.policy, losses.value, losses.opponent)
    # The gradient is that of the weighted total (the step leaves it on the weights).
    total.backward()
    for (name, param), (_, mine) in zip(reference.named_parameters(), net.named_parameters()):
        assert torch.allclose(mine.grad, param.grad.float(), rtol=1e-4, atol=1e-6), name
    # One AdamW step with this step's learning rate and the run's weight decay, from those gradients.
    before = copy.deepcopy(reference)
    for param, mine in zip(before.parameters(), net.parameters()):
        param.grad = mine.grad.clone()
    torch.optim.AdamW(before.parameters(), lr=1.5e-3, weight_decay=0.01).step()
    for (name, expected), (_, got) in zip(before.named_parameters(), net.named_parameters()):
        assert torch.equal(expected, got), name
    assert optimizer.param_groups[0]["lr"] == 1.5e-3


def test_without_any_reply_in_the_batch_there_is_no_opponent_term():
    settings = TrainerConfig()
    batch = fixed_batch(replies=False)
    net = tiny_net("wdl", True)
    reference = copy.deepcopy(net)
    losses = training_step(net, make_optimizer(net, settings), batch, settings, lr=1e-3)
    policy, value, opponent, _ = expected_losses(reference, batch, 1.0, 0.15)
    assert opponent is None and math.isnan(losses.opponent)
    assert losses.policy == pytest.approx(policy.item(), rel=1e-5)
    assert losses.value == pytest.approx(value.item(), rel=1e-5)
    assert net.opponent_policy_out.weight.grad is None  # the head got no gradient: it was not in the loss


def test_a_non_finite_loss_refuses_the_step_and_leaves_the_weights():
    settings = TrainerConfig()
    batch = fixed_batch()
    batch.planes[3, LAST_MOVE, 0, 0] = math.nan
    net = tiny_net("wdl", True)
    before = copy.deepcopy(net.state_dict())
    optimizer = make_optimizer(net, settings)
    assert training_step(net, optimizer, batch, settings, lr=1e-3) is None
    assert all(p.grad is None for p in net.parameters()) and not optimizer.state
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items() if v.is_floating_point()
               and "running" not in k)  # batch norm's running statistics saw the batch; the weights did not move


def test_the_learning_rate_warms_up_linearly_then_stays():
    settings = TrainerConfig(lr=0.01, lr_warmup_steps=4)
    assert [learning_rate(settings, s) for s in range(6)] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01])
    assert learning_rate(TrainerConfig(lr=0.01, lr_warmup_steps=0), 0) == 0.01


def test_the_learner_takes_the_same_step_with_the_same_seed(tmp_path):
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    def learner(name):
        folder = RunFolder(tmp_path / name)
        folder.create()
        config = build_config("gomoku9", [f"game.size={SIZE}", "net.blocks=1", "net.channels=8", "net.head_channels=4",
                                          "net.value_hidden=8", "train.batch_size=16", "train.window=100",
                                          "train.min_positions=16", "train.lr_warmup_steps=3"])
        made = Learner(config, folder, log=lambda message: None)
        made.window.add(random_shard())
        return made

    mine, theirs = learner("a"), learner("b")
    mine.rng = np.random.default_rng(5)
    rng = np.random.default_rng(5)
    for step in range(3):
        losses = mine.train_step()
        batch = theirs.window.sample(16, rng)
        expected = training_step(theirs.net, theirs.optimizer, batch, theirs.config.train,
                                 learning_rate(theirs.config.train, step))
        assert losses == expected.as_tuple()
    assert mine.counters.step == 3 and mine.counters.samples == 48 and mine.lr_now() == mine.config.train.lr
    assert all(torch.equal(v, theirs.net.state_dict()[k]) for k, v in mine.net.state_dict().items())
