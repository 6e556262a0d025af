"""``azero train --backend ray`` and ``azero bench --backend ray``: where the actors go, the errors a user meets, the bench.

Training on a local Ray instance, with actors and learners killed, is tested
in test_train.py beside the local backend.
"""

from __future__ import annotations

import sys

import pytest

from azero.cli import main
from azero.train.ray_selfplay import Slot, plan_slots

TINY = ["game.size=7", "game.n_in_row=4", "net.blocks=1", "net.channels=8"]


def node(node_id: str, cpus: float, gpus: float = 0.0, alive: bool = True) -> dict:
    resources = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    return {"NodeID": node_id, "Alive": alive, "Resources": resources}


def test_one_actor_per_cpu_and_gpu_shares_only_on_gpu_nodes():
    nodes = [node("head", 3, gpus=1), node("cpu-box", 3), node("dead", 8, alive=False)]
    slots = plan_slots(nodes)
    assert len(slots) == 3 + 3  # a dead node gets nothing
    on_head = [s for s in slots if s.node == "head"]
    assert len(on_head) == 3 and all(abs(s.gpus - 1 / 3) < 1e-9 for s in on_head)  # the GPU shared three ways
    assert [s.gpus for s in slots if s.node == "cpu-box"] == [0.0] * 3  # CPU actors there
    assert slots[:2] == [Slot("head", 1 / 3), Slot("cpu-box", 0.0)]  # nodes taken in turn


def test_a_set_worker_count_spreads_over_the_nodes_and_may_exceed_the_cpus():
    nodes = [node("a", 4), node("b", 4)]
    assert [s.node for s in plan_slots(nodes, wanted=3)] == ["a", "b", "a"]
    many = plan_slots(nodes, wanted=10)
    assert len(many) == 10 and many[8:] == [Slot(None, 0.0)] * 2  # anywhere Ray finds room


def test_a_cluster_without_cpus_listed_still_gets_one_actor():
    assert plan_slots([node("odd", 0)]) == [Slot(None, 0.0)]


def test_train_on_ray_without_ray_installed_is_one_line_and_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as on a machine without it
    run = tmp_path / "run"
    assert main(["train", "--backend", "ray", "--run", str(run), "--no-progress", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "pip install -e '.[ray]'" in err[-1] and err[-1].startswith("azero train: error:")
    assert not run.exists()
    assert main(["train", "--address", "10.0.0.1:6379", "--run", str(run), "--no-progress", *TINY]) == 2
    assert "--backend ray" in capsys.readouterr().err
    assert not run.exists()


def test_bench_measures_the_training_actors_on_ray():
    pytest.importorskip("ray")
    from azero.train.config import build_config
    from azero.train.ray_selfplay import measure_selfplay

    config = build_config("gomoku9", [*TINY, "selfplay.simulations=8", "selfplay.fast_simulations=4",
                                      "selfplay.games_per_worker=4", "selfplay.workers=2"])
    result = measure_selfplay(config, seconds=4.0, warmup=1.0)
    assert result["workers"] == 2 and result["seconds"] >= 4.0
    # Ray runs its workers niced, so beside other work (parallel tests) they may get little CPU: only the
    # counts' consistency is certain, and that some moves were played.
    assert result["moves_per_s"] > 0 and 0 <= result["full_moves_per_s"] <= result["moves_per_s"]
    assert result["evaluations_per_s"] > 0
