"""Every setting has a checked range: a value out of it is one line naming the setting, the value and the range."""

import dataclasses

import pytest
import tomllib

from azero.train.config import RANGES, SECTIONS, ConfigError, TrainConfig, available_presets, build_config

# Values a fault-injection trial gave (a traceback, or a crash loop of the workers and a run of "0 games"),
# then one past each end of every range.
BAD_OVERRIDES = [
    "net.channels=100000",
    "train.window=1000000000000",
    "selfplay.simulations=1000000000",
    "net.blocks=0", "net.blocks=65",
    "net.channels=0", "net.channels=1025",
    "net.global_pool_every=-1", "net.global_pool_every=65",
    "net.head_channels=0", "net.head_channels=1025",
    "net.value_hidden=0", "net.value_hidden=4097",
    "search.c_puct=0", "search.c_puct=100.5",
    "search.fpu_reduction=-0.1", "search.fpu_reduction=11",
    "search.dirichlet_alpha=-1", "search.dirichlet_alpha=101",
    "search.noise_fraction=-0.5", "search.noise_fraction=1.5",
    "search.forced_k=-1", "search.forced_k=101",
    "search.vcf_budget=-1", "search.vcf_budget=10000001",
    "search.vct_budget=-1", "search.vct_budget=10000001",
    "search.vct_root_budget=-1", "search.vct_root_budget=10000001",
    "search.vct_reply_budget=-1", "search.vct_reply_budget=10000001",
    "search.vct_depth=0", "search.vct_depth=21",
    "search.move_radius=-1", "search.move_radius=21",
    "search.leaves_per_game=0", "search.leaves_per_game=257",
    "selfplay.simulations=0", "selfplay.simulations=100001",
    "selfplay.fast_simulations=0", "selfplay.fast_simulations=100001",
    "selfplay.full_search_fraction=0", "selfplay.full_search_fraction=1.01",
    "selfplay.temperature_moves=-1", "selfplay.temperature_moves=401",
    "selfplay.random_opening_fraction=-0.1", "selfplay.random_opening_fraction=2",
    "selfplay.random_opening_moves=0", "selfplay.random_opening_moves=401",
    "selfplay.resign_threshold=-1.5", "selfplay.resign_threshold=1.5",
    "selfplay.no_resign_fraction=-0.5", "selfplay.no_resign_fraction=1.5",
    "selfplay.games_per_worker=0", "selfplay.games_per_worker=65537",
    "selfplay.workers=-1", "selfplay.workers=1025",
    "train.batch_size=0", "train.batch_size=65537",
    "train.lr=0", "train.lr=11",
    "train.lr_warmup_steps=-1", "train.lr_warmup_steps=1000000001",
    "train.weight_decay=-0.01", "train.weight_decay=2",
    "train.value_loss_weight=-1", "train.value_loss_weight=101",
    "train.opponent_policy_weight=-1", "train.opponent_policy_weight=101",
    "train.window=0", "train.window=100000001",
    "train.min_positions=0", "train.min_positions=100000001",
    "train.train_ratio=0", "train.train_ratio=1001",
    "train.checkpoint_every_steps=0", "train.checkpoint_every_steps=1000000001",
    "train.checkpoint_every_seconds=0", "train.checkpoint_every_seconds=10000001",
    "train.max_minutes=-1", "train.max_minutes=10000001",
    "train.max_steps=-1", "train.max_steps=1000000000001",
    "train.seed=-1", "train.seed=4294967296",
    "eval.every_checkpoints=-1", "eval.every_checkpoints=1000001",
    "eval.games=-2", "eval.games=10002",
    "eval.simulations=0", "eval.simulations=100001",
    "eval.pure_playouts=-1", "eval.pure_playouts=1000001",
    "eval.previous=-1", "eval.previous=101",
]


def field_type(section: str, key: str) -> str:
    """"int", "float", "str" or "bool": the annotation of a setting (the module postpones annotations)."""
    return next(f.type for f in dataclasses.fields(getattr(TrainConfig(), section)) if f.name == key)


def refusal(*overrides: str, preset: str = "gomoku9") -> str:
    with pytest.raises(ConfigError) as error:
        build_config(preset, list(overrides))
    message = str(error.value)
    assert isinstance(error.value, ValueError)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("override", BAD_OVERRIDES)
def test_a_value_out_of_range_is_one_line_naming_setting_value_and_range(override):
    name, text = override.split("=")
    section, key = name.split(".")
    value = tomllib.loads(f"v = {text}")["v"]
    shown = repr(float(value)) if field_type(section, key) == "float" else repr(value)
    message = refusal(override)
    assert message == f"{name} must be {RANGES[section][key]}, got {shown}", message


def test_the_table_tries_both_ends_of_every_range():
    tried = {override.split("=")[0] for override in BAD_OVERRIDES}
    assert tried == {f"{section}.{key}" for section, keys in RANGES.items() for key in keys}


def number_settings(section: str) -> set[str]:
    return {f.name for f in dataclasses.fields(getattr(TrainConfig(), section)) if f.type in ("int", "float")}


@pytest.mark.parametrize("section", [s for s in SECTIONS if s != "game"])
def test_every_number_setting_has_a_range(section):
    assert set(RANGES[section]) == number_settings(section)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["game.size=21"], ["board size", "21"]),  # [game] keeps the engine's own checks
        (["game.n_in_row=2"], ["n_in_row", "2"]),
        (["train.device=\"gpu\""], ["train.device", "auto, cpu, cuda, cuda:N or mps", "'gpu'"]),
        (["train.init_from=\"a\\nb\""], ["train.init_from", "control characters", "'a\\nb'"]),
        (["train.min_positions=70000"], ["train.min_positions (70000)", "train.window (60000)"]),  # never trains
        (["train.window=100", "train.batch_size=256"], ["train.window (100)", "batch_size 256"]),
        (["eval.games=3"], ["eval.games", "even", "3"]),
        (["selfplay.simulations=100000"],
         ["64 games of 100000 simulations on 9x9", "GiB", "selfplay.games_per_worker"]),
        (["selfplay.games_per_worker=65536"], ["65536 games of 160 simulations", "GiB"]),
    ],
)
def test_settings_that_do_not_fit_together_are_one_line(overrides, words):
    message = refusal(*overrides)
    for word in words:
        assert word in message, (word, message)


# Settings that must be set along with a range's end for the config to hold together.
COMPANIONS = {
    "selfplay.simulations": ["selfplay.fast_simulations=1", "selfplay.games_per_worker=8"],
    "selfplay.fast_simulations": ["selfplay.simulations=100000", "selfplay.games_per_worker=8"],
    "selfplay.games_per_worker": ["selfplay.simulations=1", "selfplay.fast_simulations=1"],
    "train.batch_size": ["train.window=65536"],
    "train.window": ["train.batch_size=1", "train.min_positions=1"],
    "train.min_positions": ["train.window=100000000"],
}


def range_ends() -> list[str]:
    ends = []
    for section, keys in RANGES.items():
        for key, bounds in keys.items():
            is_int = field_type(section, key) == "int"
            for end in ([bounds.high] if bounds.above else [bounds.low, bounds.high]):
                ends.append(f"{section}.{key}={int(end) if is_int else float(end)}")
    return ends


@pytest.mark.parametrize("override", range_ends())
def test_both_ends_of_every_range_are_accepted(override):
    build_config("gomoku9", [*COMPANIONS.get(override.split("=")[0], []), override])


@pytest.mark.parametrize("preset", available_presets())
def test_every_preset_is_valid(preset):
    config = build_config(preset, [])
    assert config.preset == preset


# Overrides that tests, the README and docs/ use for real runs: they must stay valid.
IN_USE = [
    ["game.size=7", "game.n_in_row=4", "net.blocks=1", "net.channels=8", "selfplay.simulations=8",
     "selfplay.fast_simulations=4", "selfplay.games_per_worker=8", "train.batch_size=16", "train.window=2000",
     "train.min_positions=50", "train.checkpoint_every_steps=5", "eval.every_checkpoints=0",
     "train.checkpoint_every_seconds=3600"],  # tests/test_train.py TINY
    ["selfplay.simulations=77", "game.rule=renju", "train.lr=0.01", "search.tactics=false", "net.channels=24",
     "train.max_minutes=2.5", "selfplay.workers=3", 'train.device="cpu"', "train.max_steps=7"],
    ["eval.games=2", "eval.simulations=4", "eval.pure_playouts=20", "eval.previous=1", "net.global_pool_every=1",
     "net.head_channels=4", "net.value_hidden=8", "train.opponent_policy_weight=1.0", "train.lr_warmup_steps=0"],
    ["selfplay.simulations=400", "train.lr=1e-3", "train.max_minutes=30"],  # README
    ["selfplay.games_per_worker=256"],  # README: azero bench
    ["selfplay.workers=2", "selfplay.random_opening_fraction=0.25", "selfplay.random_opening_moves=3",
     "eval.every_checkpoints=0", "train.checkpoint_every_seconds=60"],  # docs/levers
    ["search.forced_k=0", "search.fpu_reduction=0", "selfplay.full_search_fraction=1.0",
     "selfplay.fast_simulations=160", "net.value_head=scalar", "net.opponent_policy=false"],
    ['train.device="cuda:1"', 'train.init_from="checkpoints/gomoku9.safetensors"'],
    ['train.device="cuda"'],
    ['train.device="mps"'],
]


@pytest.mark.parametrize("overrides", IN_USE)
@pytest.mark.parametrize("preset", available_presets())
def test_overrides_in_use_stay_valid(preset, overrides):
    if preset.startswith("renju") and "game.n_in_row=4" in overrides:
        overrides = [o for o in overrides if not o.startswith("game.")]  # renju is five in a row only
    build_config(preset, overrides)
