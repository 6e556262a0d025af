"""The residual policy-value network.

Fully convolutional: a 3x3 stem, residual blocks (every
``global_pool_every``-th one with a KataGo-style global pooling branch), a
policy head that gives one logit per point with a 1x1 convolution, and a
value head that pools over the board before its dense layers.  Nothing in
the weights depends on the board size, so one net can read any size (each
checkpoint still records the size it was trained on).

Two of KataGo's training aids are options of the net shape:

- ``value_head = "wdl"``: the value head gives win/draw/loss logits,
  trained with cross-entropy on the game's result; the search still reads
  one number, P(win) - P(loss).  A draw is then a class of its own, not the
  midpoint between a win and a loss that MSE would regress towards.
- ``opponent_policy = true``: a second 1x1 output of the policy head
  predicts the opponent's reply, an auxiliary target that only shapes the
  trunk in training; search never reads it.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from azero.bounds import Bounds
from azero.model.planes import NUM_PLANES

VALUE_HEADS = ("scalar", "wdl")
HEAD_OPTIONS = ("value_head", "opponent_policy")  # the options that change a head, not the trunk


@dataclass
class NetOutputs:
    """Everything the net predicts; the training loss reads it all, the search only ``policy`` and ``value``."""

    policy: torch.Tensor  # [B, S*S] logits of the move to play
    value: torch.Tensor  # [B] in [-1, 1] for the side to move
    wdl: torch.Tensor | None  # [B, 3] win/draw/loss logits (value_head = "wdl")
    opponent_policy: torch.Tensor | None  # [B, S*S] logits of the opponent's reply (opponent_policy = true)


# The accepted range of each number of a NetConfig (azero.bounds); a checkpoint's net outside it is refused.
NET_RANGES: dict[str, Bounds] = {
    "blocks": Bounds(1, 64),
    "channels": Bounds(1, 1024),
    "global_pool_every": Bounds(0, 64),
    "head_channels": Bounds(1, 1024),
    "value_hidden": Bounds(1, 4096),
}


@dataclass
class NetConfig:
    blocks: int = 6  # residual blocks in the trunk (its depth)
    channels: int = 64  # channels of every convolution of the trunk (its width)
    global_pool_every: int = 3  # every k-th block pools the whole board into channel biases; 0 = never
    head_channels: int = 32  # channels of the policy and value heads' 1x1 convolutions
    value_hidden: int = 64  # hidden units of the value head's fully connected layer
    value_head: str = "scalar"  # "scalar": tanh, MSE loss; "wdl": win/draw/loss logits, cross-entropy loss
    opponent_policy: bool = False  # an auxiliary head that predicts the opponent's reply (training only)

    def check(self) -> None:
        for name in ("blocks", "channels", "head_channels", "value_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"net.{name} must be at least 1, got {getattr(self, name)}")
        if self.global_pool_every < 0:
            raise ValueError("net.global_pool_every cannot be negative")
        if self.value_head not in VALUE_HEADS:
            raise ValueError(f"net.value_head must be one of {', '.join(VALUE_HEADS)}, got {self.value_head!r}")
        if not isinstance(self.opponent_policy, bool):
            raise ValueError(f"net.opponent_policy must be true or false, got {self.opponent_policy!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def global_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean and max over the board: ``[B, C, H, W] -> [B, 2C]``."""
    return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, pooled: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        # Global pooling lets a block see the whole board at once (who is ahead, where the fight is).
        self.pool_bias = nn.Linear(2 * channels, channels) if pooled else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        if self.pool_bias is not None:
            y = y + self.pool_bias(global_pool(y))[:, :, None, None]
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        config.check()
        self.config = config
        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(NUM_PLANES, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        every = config.global_pool_every
        self.blocks = nn.Sequential(*[
            ResidualBlock(c, pooled=every > 0 and (i + 1) % every == 0) for i in range(config.blocks)
        ])
        h = config.head_channels
        self.policy_conv = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU())
        self.policy_pool_bias = nn.Linear(2 * h, h)
        self.policy_out = nn.Conv2d(h, 1, 1)
        # The opponent's reply is read from the same policy features (as KataGo does), one more 1x1 output.
        self.opponent_policy_out = nn.Conv2d(h, 1, 1) if config.opponent_policy else None
        self.value_conv = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU())
        value_outputs = 3 if config.value_head == "wdl" else 1
        self.value_fc = nn.Sequential(nn.Linear(2 * h, config.value_hidden), nn.ReLU(),
                                      nn.Linear(config.value_hidden, value_outputs))

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``planes [B, NUM_PLANES, S, S]`` -> ``(policy logits [B, S*S], value [B] in [-1, 1])``: what search reads."""
        out = self.outputs(planes, opponent=False)
        return out.policy, out.value

    def outputs(self, planes: torch.Tensor, opponent: bool = True) -> NetOutputs:
        """Every head, for the training loss (``opponent=False`` skips the reply head, which search never reads)."""
        x = self.blocks(self.stem(planes))
        p = self.policy_conv(x)
        p = p + self.policy_pool_bias(global_pool(p))[:, :, None, None]
        logits = self.policy_out(p).flatten(1)
        opponent_logits = None
        if opponent and self.opponent_policy_out is not None:
            opponent_logits = self.opponent_policy_out(p).flatten(1)
        v = self.value_fc(global_pool(self.value_conv(x)))
        if self.config.value_head == "wdl":
            wdl = v.float()
            probabilities = torch.softmax(wdl, dim=1)
            value = probabilities[:, 0] - probabilities[:, 2]
        else:
            wdl = None
            value = torch.tanh(v).squeeze(1)
        return NetOutputs(logits, value, wdl, opponent_logits)


def same_trunk(a: NetConfig, b: NetConfig) -> bool:
    """Whether two nets differ at most in their heads (``HEAD_OPTIONS``), so one's weights can seed the other."""
    defaults = {name: getattr(NetConfig(), name) for name in HEAD_OPTIONS}
    return replace(a, **defaults) == replace(b, **defaults)


def copy_weights_across_heads(target: PolicyValueNet, source: PolicyValueNet) -> list[str]:
    """Load ``source``'s weights into ``target``, a net of the same trunk whose heads may differ.

    Every tensor of the same name and shape is copied.  A scalar value
    output ``z`` becomes win/draw/loss logits ``(z, 0, -z)`` and back as
    ``(win - loss) / 2``, so the value keeps its sign and order from the first
    step (a fresh value layer would steer the first self-play games at
    random).  A reply head the source lacks starts fresh; it is training-only.
    Returns what changed, in words, for the run's log.
    """
    if not same_trunk(target.config, source.config):
        raise ValueError("the nets differ in more than their heads")
    changed = []
    state, given = target.state_dict(), source.state_dict()
    for name, tensor in given.items():
        if name in state and state[name].shape == tensor.shape:
            state[name] = tensor.clone()
    last = f"value_fc.{len(target.value_fc) - 1}"
    old_head, new_head = source.config.value_head, target.config.value_head
    if old_head != new_head:
        for kind in ("weight", "bias"):
            old = given[f"{last}.{kind}"]
            if new_head == "wdl":  # [1, ...] -> [3, ...]
                state[f"{last}.{kind}"] = torch.cat([old, torch.zeros_like(old), -old])
            else:  # [3, ...] -> [1, ...]
                state[f"{last}.{kind}"] = (old[0:1] - old[2:3]) / 2
        changed.append(f"value head {old_head} -> {new_head}")
    if target.config.opponent_policy and not source.config.opponent_policy:
        changed.append("the opponent-reply head starts fresh")
    elif source.config.opponent_policy and not target.config.opponent_policy:
        changed.append("the opponent-reply head is dropped")
    target.load_state_dict(state)
    return changed


def fold_batch_norm(net: PolicyValueNet) -> PolicyValueNet:
    """An inference copy of ``net`` with every BatchNorm folded into the convolution before it.

    Same outputs (to float rounding), a third fewer layers to run: worth it
    for self-play, where the net is called millions of times.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = copy.deepcopy(net).eval()
    for seq in (folded.stem, folded.policy_conv, folded.value_conv):
        seq[0] = fuse_conv_bn_eval(seq[0], seq[1])
        seq[1] = nn.Identity()
    for block in folded.blocks:
        block.conv1 = fuse_conv_bn_eval(block.conv1, block.bn1)
        block.bn1 = nn.Identity()
        block.conv2 = fuse_conv_bn_eval(block.conv2, block.bn2)
        block.bn2 = nn.Identity()
    return folded


def best_cuda_index() -> int:
    """The visible CUDA GPU with the most memory, then the most multiprocessors (the learner's, on a mixed node)."""
    def size(index: int) -> tuple[int, int]:
        properties = torch.cuda.get_device_properties(index)
        return properties.total_memory, properties.multi_processor_count

    return max(range(torch.cuda.device_count()), key=size)


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` picks the best CUDA GPU, then mps, then cpu; anything else must name an available device."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", best_cuda_index())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"unknown device {requested!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for, but torch sees no CUDA GPU here (use --device cpu or auto)")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device mps was asked for, but it is not available here (use --device cpu or auto)")
    return device
