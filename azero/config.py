"""Training configuration: dataclasses, TOML presets, and ``section.key=value`` overrides.

A preset (``azero/presets/NAME.toml``) names a whole recipe; every field
below can be overridden on the command line, and the full result is
printed at the start of a run and saved in the run folder.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from games.coords import check_size
from games.gomoku import check_rules
from selfplay.engine import SelfPlayConfig

from .network import NetConfig
from .search import SearchConfig

PRESET_DIR = Path(__file__).with_name("presets")


class ConfigError(ValueError):
    """A preset or override that cannot be used (the message says what is accepted)."""


@dataclass
class GameConfig:
    size: int = 9
    rule: str = "freestyle"
    n_in_row: int = 5

    def check(self) -> None:
        check_size(self.size)
        check_rules(self.rule, self.n_in_row, self.size)


@dataclass
class TrainerConfig:
    batch_size: int = 256
    lr: float = 2e-3  # AdamW learning rate after warm-up
    lr_warmup_steps: int = 100
    weight_decay: float = 1e-4
    value_loss_weight: float = 1.0
    opponent_policy_weight: float = 0.15  # weight of the opponent-reply loss, when the net has that head (KataGo's)
    window: int = 100_000  # positions in the sliding replay window
    min_positions: int = 2_000  # positions needed before the first training step
    train_ratio: float = 4.0  # positions sampled for training per new self-play position (with symmetries)
    checkpoint_every_steps: int = 250
    checkpoint_every_seconds: float = 120.0
    max_minutes: float = 0.0  # stop after this long (0 = until interrupted)
    max_steps: int = 0  # stop after this many training steps (0 = no limit)
    device: str = "auto"  # auto = the CUDA GPU with the most memory, then mps, then cpu
    seed: int = 0
    init_from: str = ""  # a checkpoint whose weights a new run starts from (same trunk, heads may differ; ignored on resume)

    def check(self) -> None:
        if self.batch_size < 1 or self.window < self.batch_size or self.min_positions < 1:
            raise ValueError("train.batch_size >= 1, train.window >= batch_size and train.min_positions >= 1 are needed")
        if self.lr <= 0 or self.train_ratio <= 0:
            raise ValueError("train.lr and train.train_ratio must be positive")
        if self.checkpoint_every_steps < 1 or self.checkpoint_every_seconds <= 0:
            raise ValueError("train.checkpoint_every_steps and train.checkpoint_every_seconds must be positive")
        if self.max_minutes < 0 or self.max_steps < 0 or self.lr_warmup_steps < 0 or self.weight_decay < 0:
            raise ValueError("train.max_minutes, max_steps, lr_warmup_steps and weight_decay cannot be negative")
        if self.value_loss_weight < 0 or self.opponent_policy_weight < 0:
            raise ValueError("train.value_loss_weight and train.opponent_policy_weight cannot be negative")


@dataclass
class EvalConfig:
    """The arena gauntlet a run plays as it trains (its Elo curve): see azero.train.Learner.evaluate."""

    every_checkpoints: int = 4  # play a gauntlet every k-th checkpoint (0 = never)
    games: int = 20  # per opponent: each opening with both colours
    simulations: int = 200  # the net's simulations per move in these games
    pure_playouts: int = 1000  # the pure-rollout MCTS reference (0 = leave it out)
    heuristic: bool = True  # the heuristic bot as a reference (the ratings' anchor)
    previous: int = 2  # how many earlier evaluated checkpoints of the run to play

    def check(self) -> None:
        if self.every_checkpoints < 0 or self.games < 0 or self.simulations < 1 or self.pure_playouts < 0 or self.previous < 0:
            raise ValueError("eval.every_checkpoints, eval.games, eval.pure_playouts, eval.previous >= 0 and "
                             "eval.simulations >= 1 are needed")
        if self.games % 2:
            raise ValueError(f"eval.games must be even (each opening is played with both colours), got {self.games}")


@dataclass
class TrainConfig:
    preset: str = "custom"
    description: str = ""
    game: GameConfig = field(default_factory=GameConfig)
    net: NetConfig = field(default_factory=NetConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def check(self) -> "TrainConfig":
        for section in SECTIONS:
            try:
                getattr(self, section).check()
            except ValueError as error:
                message = str(error)
                raise ConfigError(message if message.startswith(section) else f"{section}: {message}") from None
        return self

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
