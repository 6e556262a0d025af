"""A checkpoint records the search it was trained with, and a net plays with that search's settings (issue 21).

The file may come from anyone: its settings are checked for their types and ranges before a net plays with
them, and a file from before checkpoints recorded them plays as it always did.
"""

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from tiny_nets import TINY

from azero.model.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    load_checkpoint,
    load_tensors,
    read_info,
    save_checkpoint,
    save_tensors,
)
from azero.model.network import NetConfig, PolicyValueNet
from azero.players.factory import make_player
from azero.players.network import PLAY_FROM_TRAINING, net_player, play_search_config
from azero.players.spec import PLAY_VCT_ROOT_BUDGET
from azero.search.searcher import SearchConfig
from games.gomoku import Gomoku

TRAINED = SearchConfig(c_puct=2.5, fpu_reduction=0.4, move_radius=2, noise_fraction=0.5, forced_k=0.0, vcf_budget=7,
                       leaves_per_game=4)


def checkpoint(path: Path, size: int = 7, search: dict | None = None) -> Path:
    torch.manual_seed(0)
    config = NetConfig(**TINY)
    save_checkpoint(path, PolicyValueNet(config), CheckpointInfo(rule="freestyle", size=size, n_in_row=4,
                                                                 net=config.to_dict(), search=search))
    return path


def with_metadata(source: Path, path: Path, **changes) -> Path:
    """A copy of ``source`` with metadata fields replaced (or, given as ``...``, left out as an old file has them)."""
    tensors, meta = load_tensors(source)
    meta = {**meta, **changes}
    save_tensors(path, tensors, {k: v for k, v in meta.items() if v is not ...})
    return path


def test_the_trained_search_is_stored_and_read_back(tmp_path):
    path = checkpoint(tmp_path / "n.safetensors", search=dataclasses.asdict(TRAINED))
    assert read_info(path).search == dataclasses.asdict(TRAINED)
    assert load_checkpoint(path)[1].search == dataclasses.asdict(TRAINED)


def test_a_net_plays_with_the_settings_it_was_trained_with(tmp_path):
    path = checkpoint(tmp_path / "n.safetensors", search=dataclasses.asdict(TRAINED))
    for player in (net_player(path, 16), make_player(f"az:{path}:sims=16", game=("freestyle", 7, 4))):
        search = player.search_config
        assert (search.c_puct, search.fpu_reduction, search.move_radius) == (2.5, 0.4, 2)
        # The rest is play's own: the root's VCT, and self-play's noise, forced playouts and parallel leaves are not.
        played = play_search_config(7)
        assert search.vct_root_budget == PLAY_VCT_ROOT_BUDGET
        for name in ("noise_fraction", "forced_k", "vcf_budget", "leaves_per_game", "tactics", "tree_reuse"):
            assert getattr(search, name) == getattr(played, name), name
        assert player.choose_moves([Gomoku(7, "freestyle", 4)])[0] in range(49)
    assert set(PLAY_FROM_TRAINING) == {"c_puct", "fpu_reduction", "move_radius"}


def test_the_spec_options_still_set_play_only_settings(tmp_path):
    path = checkpoint(tmp_path / "n.safetensors", search={"c_puct": 3.0, "vct_root_budget": 0})
    search = make_player(f"az:{path}:sims=8:vct=500:leafvct=9").search_config
    assert (search.c_puct, search.vct_root_budget, search.vct_budget) == (3.0, 500, 9)


def test_an_old_checkpoint_plays_as_before(tmp_path):
    for size, radius in ((7, 0), (15, 3)):
        new = checkpoint(tmp_path / f"new{size}.safetensors", size=size)
        old = with_metadata(new, tmp_path / f"old{size}.safetensors", search=...)
        assert "search" not in load_tensors(old)[1]
        assert read_info(old).search is None and read_info(new).search is None
        search = net_player(old, 8).search_config
        assert search == play_search_config(size) and search.move_radius == radius
        assert (search.c_puct, search.fpu_reduction) == (SearchConfig().c_puct, SearchConfig().fpu_reduction)


def test_a_setting_of_a_later_azero_is_left_unread(tmp_path):
    path = checkpoint(tmp_path / "n.safetensors", search={"c_puct": 2.0, "some_later_setting": 5})
    assert net_player(path, 8).search_config.c_puct == 2.0


HOSTILE_SHAPES = [
    ([1.5, 2], "search must be a mapping"),
    ("c_puct=9", "search must be a mapping"),
    ({f"s{i}": 1 for i in range(100)}, "at most 64"),
    ({"c puct": 1.0}, "a setting's name is a short word"),
    ({"x" * 100: 1.0}, "a setting's name is a short word"),
    ({"c_puct": [1.0]}, "search.c_puct must be a number or true/false"),
    ({"c_puct": {"a": 1}}, "search.c_puct must be a number or true/false"),
    ({"c_puct": None}, "search.c_puct must be a number or true/false"),
    ({"c_puct": math.inf}, "search.c_puct must be a number or true/false"),
    ({"c_puct": math.nan}, "search.c_puct must be a number or true/false"),
    ({"move_radius": 10**400}, "search.move_radius must be a number or true/false"),
]


@pytest.mark.parametrize("search, words", HOSTILE_SHAPES)
def test_a_search_that_is_not_settings_is_refused_on_reading(tmp_path, search, words):
    path = with_metadata(checkpoint(tmp_path / "good.safetensors"), tmp_path / "bad.safetensors", search=search)
    for read in (read_info, load_checkpoint, net_player):
        with pytest.raises(CheckpointError) as refused:
            read(path) if read is not net_player else read(path, 8)
        message = str(refused.value)
        assert words in message and "damaged metadata" in message and "\n" not in message, message
        assert len(message) < 300, message


HOSTILE_VALUES = [
    ({"c_puct": -1.0}, "search.c_puct must be above 0 and at most 100, got -1.0"),
    ({"c_puct": 0}, "search.c_puct must be above 0"),
    ({"c_puct": 1e300}, "search.c_puct must be above 0 and at most 100"),
    ({"c_puct": "1.5"}, "search.c_puct must be a number"),  # refused as a shape already
    ({"c_puct": True}, "search.c_puct must be of type float, got True"),
    ({"fpu_reduction": -0.5}, "search.fpu_reduction must be from 0 to 10"),
    ({"move_radius": 1.5}, "search.move_radius must be of type int, got 1.5"),
    ({"move_radius": 10**12}, "search.move_radius must be from 0 to"),
    ({"move_radius": -1}, "search.move_radius must be from 0 to"),
    ({"tactics": 1}, "search.tactics must be of type bool, got 1"),
    ({"vct_depth": 0}, "search.vct_depth must be from 1 to 20"),
    ({"leaves_per_game": 10**9}, "search.leaves_per_game must be from 1 to 256"),
]


@pytest.mark.parametrize("search, words", HOSTILE_VALUES)
def test_a_hostile_setting_is_refused_in_one_line_before_the_net_plays(tmp_path, search, words):
    path = checkpoint(tmp_path / "n.safetensors")
    bad = with_metadata(path, tmp_path / "bad.safetensors", search=search)
    for build in (lambda: net_player(bad, 8), lambda: make_player(f"az:{bad}", game=("freestyle", 7, 4))):
        with pytest.raises(CheckpointError) as refused:
            build()
        message = str(refused.value)
        assert words in message and str(bad) in message and "\n" not in message, message


def test_a_tournament_refuses_a_hostile_setting_before_making_its_database(tmp_path):
    from azero.arena.store import ArenaError
    from azero.arena.tournament import GameKind, run_tournament

    bad = with_metadata(checkpoint(tmp_path / "n.safetensors"), tmp_path / "bad.safetensors",
                        search={"c_puct": -3.0})
    db = tmp_path / "a.sqlite"
    with pytest.raises(ArenaError) as refused:
        run_tournament(db, [f"az:{bad}:sims=4", "random"], GameKind("freestyle", 7, 4), 2, workers=1, progress=False)
    message = str(refused.value)
    assert "search.c_puct must be above 0" in message and "\n" not in message, message
    assert not db.exists()


def test_an_onnx_export_plays_with_its_checkpoints_search(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from azero.model.export import export_onnx

    path = checkpoint(tmp_path / "n.safetensors", search={"c_puct": 2.25, "move_radius": 1})
    exported = export_onnx(path, tmp_path / "n.onnx", check_positions=4).path
    search = make_player(f"az:{exported}:sims=8", game=("freestyle", 7, 4)).search_config
    assert (search.c_puct, search.move_radius) == (2.25, 1)
