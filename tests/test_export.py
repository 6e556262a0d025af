"""ONNX export: the exported net says what the torch net says, and plays through ``az:NET.onnx``."""

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install -e '.[onnx]'")
pytest.importorskip("onnxscript", reason="torch's ONNX exporter needs onnxscript: pip install -e '.[onnx]'")
pytest.importorskip("onnxruntime", reason="running an exported net needs onnxruntime: pip install -e '.[onnx]'")

import onnx  # noqa: E402
from tiny_nets import TINY, tiny_checkpoint  # noqa: E402

from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, save_checkpoint  # noqa: E402
from azero.model.evaluator import NetEvaluator  # noqa: E402
from azero.model.export import export_onnx, random_positions  # noqa: E402
from azero.model.network import NetConfig, PolicyValueNet  # noqa: E402
from azero.model.onnx_evaluator import OnnxEvaluator, load_onnx_evaluator  # noqa: E402
from azero.players.factory import make_player  # noqa: E402
from games.gomoku import Gomoku  # noqa: E402

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny 7x7 four-in-a-row net, exported once for the module."""
    folder = tmp_path_factory.mktemp("export")
    checkpoint = tiny_checkpoint(folder / "tiny.safetensors", size=7, n_in_row=4, seed=3)
    return checkpoint, export_onnx(checkpoint, folder / "tiny.onnx", check_positions=32)


def wdl_renju_checkpoint(path):
    """A tiny renju net with the WDL value head and the opponent-reply head (left out of the export)."""
    config = NetConfig(**TINY, value_head="wdl", opponent_policy=True)
    net = PolicyValueNet(config)
    info = CheckpointInfo(rule="renju", size=9, n_in_row=5, net=config.to_dict())
    save_checkpoint(path, net, info)
    return path


def test_export_reports_onnxruntime_agrees_with_torch(exported):
    _, report = exported
    assert report.path.is_file() and report.positions == 32
    assert report.max_policy_difference < TOLERANCE and report.max_value_difference < TOLERANCE
    assert "differ by at most" in report.summary()


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_onnx_outputs_match_the_torch_evaluator_at_any_batch(exported, batch):
    checkpoint, report = exported
    net, _ = load_checkpoint(checkpoint)
    planes = random_positions("freestyle", 7, 4, batch, seed=batch)
    torch_logits, torch_values = NetEvaluator(net, "cpu")(planes)
    onnx_logits, onnx_values = OnnxEvaluator(report.path, threads=1)(planes)
    assert onnx_logits.shape == (batch, 49) and onnx_values.shape == (batch,)
    assert onnx_logits.dtype == np.float32 and onnx_values.dtype == np.float32
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(onnx_values, torch_values, atol=TOLERANCE, rtol=0)


def test_the_game_travels_in_the_models_metadata(exported):
    _, report = exported
    props = {entry.key: entry.value for entry in onnx.load(str(report.path)).metadata_props}
    assert (props["rule"], props["size"], props["n_in_row"]) == ("freestyle", "7", "4")
    info = OnnxEvaluator(report.path).info
    assert (info.rule, info.size, info.n_in_row) == ("freestyle", 7, 4)
    assert info.checkpoint["net"] == NetConfig(**TINY).to_dict()
    graph = onnx.load(str(report.path)).graph
    assert [i.name for i in graph.input] == ["planes"] and [o.name for o in graph.output] == ["policy_logits", "value"]
    assert not any(node.op_type == "BatchNormalization" for node in graph.node)  # folded into the convolutions


def test_a_wdl_renju_net_exports_its_value_as_the_search_reads_it(tmp_path):
    checkpoint = wdl_renju_checkpoint(tmp_path / "wdl.safetensors")
    report = export_onnx(checkpoint, check_positions=16)  # beside the checkpoint by default
    assert report.path == tmp_path / "wdl.onnx" and report.rule == "renju"
    assert report.max_policy_difference < TOLERANCE and report.max_value_difference < TOLERANCE


def test_az_onnx_plays_a_move_like_a_checkpoint(exported):
    _, report = exported
    player = make_player(f"az:{report.path}:sims=16", game=("freestyle", 7, 4))
    game = Gomoku.from_moves(["d4", "e5"], size=7, n_in_row=4)
    move = player.choose_moves([game])[0]
    assert game.is_legal(move) and player.last_simulations == [16]
    player.close()


def test_an_onnx_net_for_another_game_or_without_azero_metadata_is_refused(exported, tmp_path):
    _, report = exported
    with pytest.raises(CheckpointError, match="9x9"):
        make_player(f"az:{report.path}", game=("freestyle", 9, 4))
    with pytest.raises(CheckpointError, match="renju"):
        load_onnx_evaluator(report.path, rule="renju")
    bare = onnx.load(str(report.path))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(CheckpointError, match="no azero metadata"):
        OnnxEvaluator(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="onnxruntime"):
        OnnxEvaluator(tmp_path / "junk.onnx")
    with pytest.raises(CheckpointError, match="no ONNX model"):
        OnnxEvaluator(tmp_path / "missing.onnx")


def test_the_speed_benchmark_measures_both_runtimes_at_each_batch(exported, monkeypatch):
    from azero.bench import onnx_speed as bench_onnx
    from azero.train.config import load_preset

    monkeypatch.setattr(bench_onnx, "WARMUP_SECONDS", 0.01)
    checkpoint, _ = exported
    report = bench_onnx.inference_benchmark(checkpoint, batches=[1, 3], seconds=0.05)
    assert [row["batch"] for row in report["rows"]] == [1, 3]
    assert all(row["torch_positions_per_s"] > 0 and row["onnxruntime_positions_per_s"] > 0 for row in report["rows"])
    assert report["max_policy_difference"] < TOLERANCE and report["threads"] == 1
    assert "onnxruntime" in bench_onnx.format_report(report)
    preset = load_preset("gomoku15")
    assert bench_onnx.selfplay_batch("gomoku15") == preset.selfplay.games_per_worker * preset.search.leaves_per_game
    assert bench_onnx.selfplay_batch(None) == bench_onnx.FALLBACK_SELFPLAY_BATCH
