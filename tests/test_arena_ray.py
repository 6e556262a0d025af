"""`azero arena run --backend ray`: the same games as the local backend, and a killed worker loses nothing.

The Ray tests start a Ray instance on this machine (2 CPUs), as a user
trying the backend before a cluster would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from tiny_nets import tiny_checkpoint

from azero.arena.store import ArenaStore
from azero.arena.tournament import GameKind, run_tournament
from azero.cli import main

SMALL = GameKind("freestyle", 7, 4)


def stored(db) -> dict[str, tuple[str, str, str, str]]:
    """schedule key -> (black, white, moves, result) of every stored game."""
    with ArenaStore(db) as store:
        return {g.schedule_key: (g.black, g.white, g.moves, g.result) for g in store.games()}


def test_without_ray_installed_the_backend_is_one_line_saying_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as on a machine without it
    args = ["arena", "run", "random", "heuristic", "--games", "2", "--db", str(tmp_path / "a.sqlite"),
            "--no-progress", "--size", "7", "--n-in-row", "4"]
    assert main(args + ["--backend", "ray"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[ray]'" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--address", "10.0.0.1:6379"]) == 2
    assert "--backend ray" in capsys.readouterr().err


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20,
             logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_ray_plays_the_same_games_as_the_local_backend(tmp_path, local_ray):
    net = tiny_checkpoint(tmp_path / "net.safetensors", size=7, n_in_row=4, seed=3)
    players = [f"az:{net}:sims=8", "heuristic", "random"]
    local = run_tournament(tmp_path / "local.sqlite", players, SMALL, 8, candidate=players[0], workers=2,
                           progress=False)
    on_ray = run_tournament(tmp_path / "ray.sqlite", players, SMALL, 8, candidate=players[0], workers=2,
                            progress=False, backend="ray")
    assert (local.played, on_ray.played) == (16, 16)
    assert stored(tmp_path / "ray.sqlite") == stored(tmp_path / "local.sqlite")
    again = run_tournament(tmp_path / "ray.sqlite", players, SMALL, 8, candidate=players[0], progress=False,
                           backend="ray")
    assert (again.played, again.already_played) == (0, 16)


def _kill_a_ray_worker_while_it_plays(killed: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        found = subprocess.run(["pgrep", "-f", "ray::_play_remote"], capture_output=True, text=True).stdout.split()
        if found:
            time.sleep(0.5)  # let it be in the middle of its games
            try:
                os.kill(int(found[0]), signal.SIGKILL)
                killed.append(int(found[0]))
            except ProcessLookupError:
                continue
            return
        time.sleep(0.05)


def test_a_killed_ray_worker_is_replaced_and_its_games_are_played_once(tmp_path, local_ray):
    net = tiny_checkpoint(tmp_path / "net.safetensors", size=7, n_in_row=4, seed=5)
    players = [f"az:{net}:sims=200", "heuristic"]
    db = tmp_path / "ray.sqlite"
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_ray_worker_while_it_plays, args=(killed, stop), daemon=True)
    killer.start()
    try:
        summary = run_tournament(db, players, SMALL, 32, candidate=players[0], workers=2, progress=False,
                                 backend="ray")
    finally:
        stop.set()
        killer.join(timeout=10)
    assert killed, "no Ray worker was seen playing"
    assert summary.played == summary.scheduled == 32 and not summary.interrupted
    games = stored(db)
    assert len(games) == 32  # every scheduled game once: the lost task's games were played again, none twice
    with ArenaStore(db) as store:
        for game in store.games():
            assert game.moves.startswith(game.opening) and game.result in ("black", "white", "draw")
