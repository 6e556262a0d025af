"""Training configuration: dataclasses, TOML presets, and ``section.key=value`` overrides.

A preset (``azero/train/presets/NAME.toml``) names a whole recipe; every field
below can be overridden on the command line, and the full result is
printed at the start of a run and saved in the run folder.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from azero.bounds import Bounds, check_bounds
from azero.model.network import NET_RANGES, NetConfig
from azero.search.mcts import FLOAT_FIELDS, INT_FIELDS
from azero.search.searcher import SEARCH_RANGES, SearchConfig, nodes_needed
from games.coords import check_size
from games.gomoku import check_rules
from selfplay.engine import SELFPLAY_RANGES, SelfPlayConfig

PRESET_DIR = Path(__file__).with_name("presets")


class ConfigError(ValueError):
    """A preset or override that cannot be used (the message says what is accepted)."""


def _shortened(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut short so that an error message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# The accepted range of every number setting, section by section ([game] is checked by the engine's own
# check_size and check_rules).  The presets use a small part of each range; the bounds leave room for
# real use and refuse a slip of the keyboard (a few zeros too many) here, in one line, instead of a
# traceback, an allocation of terabytes or a crash loop of the self-play workers later.  How settings
# relate to each other (fast_simulations <= simulations, window >= batch_size) is the sections' own check.
RANGES: dict[str, dict[str, Bounds]] = {
    "net": NET_RANGES,
    "search": SEARCH_RANGES,
    "selfplay": SELFPLAY_RANGES,
    "train": {
        "batch_size": Bounds(1, 65_536),
        "lr": Bounds(0, 10, above=True),
        "lr_warmup_steps": Bounds(0, 1_000_000_000),
        "weight_decay": Bounds(0, 1),
        "value_loss_weight": Bounds(0, 100),
        "opponent_policy_weight": Bounds(0, 100),
        "window": Bounds(1, 100_000_000),
        "min_positions": Bounds(1, 100_000_000),
        "train_ratio": Bounds(0, 1000, above=True),
        "checkpoint_every_steps": Bounds(1, 1_000_000_000),
        "checkpoint_every_seconds": Bounds(0, 10_000_000, above=True),
        "max_minutes": Bounds(0, 10_000_000),
        "max_steps": Bounds(0, 1_000_000_000_000),
        "seed": Bounds(0, 2**32 - 1),  # the workers' seeds grow from it, and numpy refuses negative ones
    },
    "eval": {
        "every_checkpoints": Bounds(0, 1_000_000),
        "games": Bounds(0, 10_000),
        "simulations": Bounds(1, 100_000),
        "pure_playouts": Bounds(0, 1_000_000),
        "previous": Bounds(0, 100),
    },
}


def check_ranges(section: str, settings) -> None:
    """Raise ValueError naming the first number setting of ``settings`` outside its range in RANGES."""
    check_bounds(section, settings, RANGES.get(section, {}))


@dataclass
class GameConfig:
    """The game the run learns; a run folder refuses to resume with another one."""

    size: int = 9  # board width and height, in points
    rule: str = "freestyle"  # freestyle (five or more wins), standard (exactly five) or renju (black's forbidden moves)
    n_in_row: int = 5  # stones in an unbroken line that win (renju: 5)

    def check(self) -> None:
        check_size(self.size)
        check_rules(self.rule, self.n_in_row, self.size)


DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:[0-9]+)?")  # what azero.model.network.pick_device understands
MAX_PATH_CHARACTERS = 4096  # Linux's PATH_MAX


@dataclass
class TrainerConfig:
    """The learner: its optimizer and losses (azero.train.step), its replay window, checkpoints and limits."""

    batch_size: int = 256  # positions in one training step's batch
    lr: float = 2e-3  # AdamW learning rate after warm-up (per step)
    lr_warmup_steps: int = 100  # steps over which the learning rate rises linearly to lr; 0 = none
    weight_decay: float = 1e-4  # AdamW's decoupled weight decay: each step shrinks every weight by a fraction lr * this
    value_loss_weight: float = 1.0  # weight of the value loss in the total loss (the policy loss has weight 1)
    opponent_policy_weight: float = 0.15  # weight of the opponent-reply loss, when the net has that head (KataGo's)
    window: int = 100_000  # positions in the sliding replay window
    min_positions: int = 2_000  # positions needed before the first training step
    train_ratio: float = 4.0  # positions sampled for training per new self-play position (with symmetries)
    checkpoint_every_steps: int = 250  # publish a checkpoint (the workers' next net) after this many steps ...
    checkpoint_every_seconds: float = 120.0  # ... or after this many seconds, whichever comes first
    max_minutes: float = 0.0  # stop this session after this many minutes (0 = until interrupted)
    max_steps: int = 0  # stop once the run has taken this many training steps in all (0 = no limit)
    device: str = "auto"  # auto = the CUDA GPU with the most memory, then mps, then cpu
    seed: int = 0  # seeds the net's first weights and the self-play workers (batch sampling also uses the clock)
    init_from: str = ""  # a checkpoint whose weights a new run starts from (same trunk, heads may differ; ignored on resume)

    def check(self) -> None:
        """How the settings relate, and the text ones; each number's own range is in RANGES["train"]."""
        if self.window < self.batch_size:
            raise ValueError(f"train.window ({self.window}) must hold at least one batch "
                             f"(train.batch_size {self.batch_size})")
        if self.min_positions > self.window:
            # The window never holds more than its size, so training would wait for ever.
            raise ValueError(f"train.min_positions ({self.min_positions}) cannot exceed train.window ({self.window})")
        if not DEVICE_NAME.fullmatch(self.device):
            raise ValueError(f"train.device must be auto, cpu, cuda, cuda:N or mps, got {_shortened(self.device)}")
        # Control characters cannot stand in a TOML string: the run's config.toml would not read back on resume.
        if len(self.init_from) > MAX_PATH_CHARACTERS or any(ord(c) < 32 or ord(c) == 127 for c in self.init_from):
            raise ValueError(f"train.init_from must be a checkpoint path of at most {MAX_PATH_CHARACTERS} characters "
                             f"without control characters, got {_shortened(self.init_from)}")


@dataclass
class EvalConfig:
    """The arena gauntlet a run plays as it trains (its Elo curve): see azero.train.gauntlet."""

    every_checkpoints: int = 4  # play a gauntlet every k-th checkpoint of a session (0 = never)
    games: int = 20  # games against each opponent, each opening with both colours (so even; 0 = no gauntlet)
    simulations: int = 200  # the checkpoints' MCTS simulations per move in these games
    pure_playouts: int = 1000  # playouts per move of the pure-rollout MCTS reference (0 = leave it out)
    heuristic: bool = True  # the heuristic bot as a reference (the ratings' anchor)
    previous: int = 2  # how many of the run's latest earlier evaluated checkpoints to play

    def check(self) -> None:
        """How the settings relate; each number's own range is in RANGES["eval"]."""
        if self.games % 2:
            raise ValueError(f"eval.games must be even (each opening is played with both colours), got {self.games}")


@dataclass
class TrainConfig:
    """A whole training recipe: one section per dataclass, each field a ``section.key`` setting."""

    preset: str = "custom"  # the preset the recipe started from
    description: str = ""  # one line on what the preset is for (azero train --list-presets)
    game: GameConfig = field(default_factory=GameConfig)  # [game]: the board, the rules, the row that wins
    net: NetConfig = field(default_factory=NetConfig)  # [net]: the network's shape and heads (azero.model.network)
    search: SearchConfig = field(default_factory=SearchConfig)  # [search]: the tree search (azero.search.searcher)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)  # [selfplay]: the workers' games (selfplay.engine)
    train: TrainerConfig = field(default_factory=TrainerConfig)  # [train]: the learner
    eval: EvalConfig = field(default_factory=EvalConfig)  # [eval]: the arena gauntlet as it trains

    def check(self) -> "TrainConfig":
        for section in SECTIONS:
            settings = getattr(self, section)
            try:
                check_ranges(section, settings)
                settings.check()
            except ValueError as error:
                message = str(error)
                raise ConfigError(message if message.startswith(section) else f"{section}: {message}") from None
        self._check_search_memory()
        return self

    def _check_search_memory(self) -> None:
        """A self-play worker holds a full tree for each of its games at once: refuse trees no machine can hold.

        Without this a worker dies allocating them, is restarted, dies again, and the run plays no game.
        """
        nodes = nodes_needed(self.selfplay.simulations, self.game.size, self.search.move_radius)
        tree_bytes = self.selfplay.games_per_worker * nodes * SEARCH_NODE_BYTES
        if tree_bytes > MAX_TREE_BYTES_PER_WORKER:
            raise ConfigError(
                f"selfplay: {self.selfplay.games_per_worker} games of {self.selfplay.simulations} simulations on "
                f"{self.game.size}x{self.game.size} need {tree_bytes / 2**30:.1f} GiB of search trees in each "
                f"worker (at most {MAX_TREE_BYTES_PER_WORKER >> 30} GiB); lower selfplay.simulations or "
                f"selfplay.games_per_worker")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        lines = [f"preset = {_toml_value(self.preset)}", f"description = {_toml_value(self.description)}"]
        for section in SECTIONS:
            lines.append(f"\n[{section}]")
            for key, value in dataclasses.asdict(getattr(self, section)).items():
                lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


SECTIONS = ("game", "net", "search", "selfplay", "train", "eval")
SEARCH_NODE_BYTES = 4 * (INT_FIELDS + FLOAT_FIELDS)  # a tree node: int32 and float32 fields (azero.search.mcts)
MAX_TREE_BYTES_PER_WORKER = 16 << 30  # the presets' workers need at most 1 GiB


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def _coerce(section: str, key: str, value, kind: str):
    """Check ``value`` against a field's annotation (a string: the module uses postponed annotations)."""
    where = f"{section}.{key}"
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if isinstance(value, str):
        return value
    raise ConfigError(f"{where} must be text, got {value!r}")


def _apply(config: TrainConfig, section: str, key: str, value) -> None:
    if section not in SECTIONS:
        raise ConfigError(f"unknown section {section!r}; sections are {', '.join(SECTIONS)}")
    target = getattr(config, section)
    fields = {f.name: f.type for f in dataclasses.fields(target)}
    if key not in fields:
        raise ConfigError(f"unknown setting {section}.{key}; {section} has {', '.join(fields)}")
    setattr(target, key, _coerce(section, key, value, fields[key]))


def from_mapping(data: dict, base: TrainConfig | None = None, source: str = "config") -> TrainConfig:
    config = base or TrainConfig()
    for name, value in data.items():
        if name in ("preset", "description"):
            setattr(config, name, str(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                _apply(config, name, key, item)
        else:
            raise ConfigError(f"{source}: unexpected top-level setting {name!r}")
    return config


def load_preset(name: str) -> TrainConfig:
    path = PRESET_DIR / f"{name}.toml"
    if not name.replace("_", "").replace("-", "").isalnum() or not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; presets are {', '.join(available_presets())}")
    config = from_mapping(tomllib.loads(path.read_text()), source=path.name)
    config.preset = name
    return config


def load_file(path: Path) -> TrainConfig:
    try:
        return from_mapping(tomllib.loads(Path(path).read_text()), source=str(path))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def apply_overrides(config: TrainConfig, overrides: list[str]) -> TrainConfig:
    """Apply ``section.key=value`` strings; values are TOML (``true``, ``3``, ``0.5``) or bare text."""
    for item in overrides:
        name, sep, text = item.partition("=")
        section, dot, key = name.strip().partition(".")
        if not sep or not dot or not key:
            raise ConfigError(f"override {item!r} is not of the form section.key=value (for example selfplay.simulations=100)")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        _apply(config, section, key.strip(), value)
    return config


def build_config(preset: str, overrides: list[str]) -> TrainConfig:
    return apply_overrides(load_preset(preset), overrides).check()
