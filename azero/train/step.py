"""One training step of AlphaZero, top to bottom: the optimizer, the learning rate, the losses and the update.

Everything else the learner does (reading self-play games into the replay
window, checkpoints, metrics, the arena gauntlet) is bookkeeping around
:func:`training_step`, which ``Learner.train_step`` (azero.train.learner)
calls once per batch.

The network looks at a position and predicts, head by head:

- the **policy**: where to play.  Its target is the visit distribution of
  the search that self-play ran from that position.  A search of a few
  hundred simulations plays better than the bare network, so the network
  learns to predict where the search would go, and the next search, guided
  by the better network, goes further (AlphaZero's policy improvement).
- the **value**: who wins from here.  Its target is the outcome of the game
  that was actually played from the position (+1 the side to move won,
  0 draw, -1 lost).  The search reads it at every leaf instead of playing
  the game out.
- with ``net.opponent_policy``, the **opponent's reply** (KataGo's
  auxiliary head): where the opponent answered the move that was played.
  The search never reads it; it teaches the shared trunk to see the
  opponent's threats, which makes the two heads above learn faster.

The loss is their weighted sum (the policy term has weight 1, the unit of
the others)::

    policy cross-entropy + train.value_loss_weight * value loss + train.opponent_policy_weight * reply cross-entropy

AdamW's decoupled weight decay (``train.weight_decay``) stands in for
AlphaZero's L2 term.  Every hyper-parameter named here is declared, with
what it does, in azero/train/config.py (``azero train --help-settings``
prints them all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from azero.model.network import NetOutputs, PolicyValueNet
from azero.model.planes import OPPONENT, OWN
from azero.train.config import TrainerConfig
from selfplay.replay import TrainingBatch

OCCUPIED_LOGIT = -1e4  # what an occupied point's logit becomes: its probability is exactly 0 in float32


# -- the optimizer and its learning rate ------------------------------------------------------------------


def make_optimizer(net: PolicyValueNet, settings: TrainerConfig) -> torch.optim.Optimizer:
    """AdamW over every weight of the net, with the run's learning rate and weight decay."""
    return torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)


def learning_rate(settings: TrainerConfig, step: int) -> float:
    """The learning rate of training step ``step`` (0-based): a linear warm-up over ``lr_warmup_steps``, then ``lr``.

    The warm-up keeps Adam's first steps, taken with second-moment estimates
    made from a handful of gradients, from throwing a fresh net far off.
    """
    if settings.lr_warmup_steps and step < settings.lr_warmup_steps:
        return settings.lr * (step + 1) / settings.lr_warmup_steps
    return settings.lr


# -- the losses -------------------------------------------------------------------------------------------


def policy_cross_entropy(logits: torch.Tensor, target: torch.Tensor, occupied: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of move logits against a target distribution; occupied points are never moves,
    so they are masked out rather than learned."""
    logits = logits.float().masked_fill(occupied, OCCUPIED_LOGIT)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def value_head_loss(out: NetOutputs, outcome: torch.Tensor) -> torch.Tensor:
    """MSE of the scalar value, or cross-entropy of the win/draw/loss logits (outcome +1 -> win, 0 draw, -1 loss)."""
    if out.wdl is None:
        return F.mse_loss(out.value.float(), outcome)
    return F.cross_entropy(out.wdl.float(), (1 - outcome).long())


def opponent_reply_loss(out: NetOutputs, reply: torch.Tensor, occupied: torch.Tensor) -> torch.Tensor | None:
    """Cross-entropy of the opponent-reply logits against the reply played (a one-hot target), over the positions
    that have one; None without the head, or when no position of the batch has a reply (its game ended there)."""
    if out.opponent_policy is None:
        return None
    known = reply >= 0
    if not bool(known.any()):
        return None
    # The reply is a point of the board before our move (see selfplay.engine), so the same points are occupied.
    target = F.one_hot(reply[known], out.opponent_policy.shape[1]).float()
    return policy_cross_entropy(out.opponent_policy[known], target, occupied[known])


# -- one step ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepLosses:
    """The loss terms of one step, before weighting (what the metrics and the status line show)."""

    policy: float  # cross-entropy against the search's visits, in nats
    value: float  # MSE (scalar head) or win/draw/loss cross-entropy in nats (wdl head)
    opponent: float  # reply cross-entropy in nats; NaN without the head or when no position had a reply

    def as_tuple(self) -> tuple[float, float, float]:
        return self.policy, self.value, self.opponent


def training_step(net: PolicyValueNet, optimizer: torch.optim.Optimizer, batch: TrainingBatch,
                  settings: TrainerConfig, lr: float) -> StepLosses | None:
    """One optimizer step of ``net`` on ``batch``; returns its losses, or None when the step was refused.

    A step is refused when its loss or gradient is not finite: the weights
    stay as they were.  ``lr`` is this step's learning rate (see
    :func:`learning_rate`).
    """
    device = next(net.parameters()).device

    # 1. The batch: positions drawn at random from the replay window, each under one of the board's eight
    #    symmetries (ReplayWindow.sample), with what self-play recorded about them.
    planes = torch.from_numpy(batch.planes).to(device)  # [B, planes, S, S]: what the net sees
    searched = torch.from_numpy(batch.policy).to(device)  # [B, S*S]: the search's visit distribution
    outcome = torch.from_numpy(batch.value).to(device)  # [B]: +1 the side to move won, 0 draw, -1 lost
    reply = torch.from_numpy(batch.reply).to(device)  # [B]: the opponent's answer, -1 if the game ended first
    occupied = (planes[:, OWN] + planes[:, OPPONENT]).flatten(1) > 0  # [B, S*S]: points that hold a stone

    # 2. Forward: every head at once, in training mode (batch norm normalises with this batch's statistics).
    #    On a GPU in bfloat16 autocast, about twice as fast; the losses below are computed in float32.
    for group in optimizer.param_groups:
        group["lr"] = lr
    net.train()
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        out = net.outputs(planes)

    # 3. The loss, term by term.
    # The policy learns to play where the search went: the search is the stronger player (policy improvement).
    # Weight 1: the other terms are weighed against it.
    policy_loss = policy_cross_entropy(out.policy, searched, occupied)
    # The value learns who went on to win: it is what the search reads at a leaf instead of a playout.
    # train.value_loss_weight: 1 by default, as AlphaZero adds the two unweighted.
    value_loss = value_head_loss(out, outcome)
    loss = policy_loss + settings.value_loss_weight * value_loss
    # The reply head (KataGo's auxiliary target) learns where the opponent answered: never used in search, it
    # teaches the shared trunk about the opponent's plans.  train.opponent_policy_weight is small (KataGo's 0.15):
    # the term shapes the features without taking the trunk over from the two heads the search reads.
    opponent_loss = opponent_reply_loss(out, reply, occupied)
    if opponent_loss is not None:
        loss = loss + settings.opponent_policy_weight * opponent_loss

    # 4. Backward: the gradient of the weighted loss for every weight.
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    # A non-finite loss or gradient would turn every weight into NaN, and the workers and the disk would get that
    # network: such a step is refused (the weights stay as they were).  Clipping at infinity only measures the norm.
    gradient_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), float("inf"))
    if not (torch.isfinite(loss.detach()) and torch.isfinite(gradient_norm)):
        optimizer.zero_grad(set_to_none=True)
        return None

    # 5. Step: AdamW moves each weight against its gradient (by about lr at most) and shrinks it by
    #    lr * train.weight_decay of itself.
    optimizer.step()
    return StepLosses(policy=float(policy_loss.detach()), value=float(value_loss.detach()),
                      opponent=math.nan if opponent_loss is None else float(opponent_loss.detach()))
