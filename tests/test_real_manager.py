"""pbrain-azero under c-gomoku-cli, a real Gomocup manager (docs/engine/real_manager.py).

The match needs a built c-gomoku-cli: set AZERO_C_GOMOKU_CLI to its binary
(build it with ``python docs/engine/real_manager.py --source URL_OR_FOLDER``,
which leaves it in ``WORK/c-gomoku-cli/src/``).  Without it the match is
skipped; the reading of the manager's output and log is tested either way.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("real_manager", ROOT / "docs" / "engine" / "real_manager.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


real_manager = load_script()

LOG = """\
azero <- START 15
azero -> OK
azero <- INFO timeout_turn 5000
azero <- INFO time_left 60000
azero <- BEGIN
azero -> MESSAGE azero: 812 simulations in 2.30 s (ordinary 2.31 s, limit 4.70 s, stopped: planned time), win rate 55% for us
azero -> 7,7
azero <- INFO time_left 57650
azero <- TURN 8,8
azero -> MESSAGE azero: 1500 simulations in 4.60 s (ordinary 2.28 s, limit 4.65 s, stopped: hard limit), win rate 52% for us
azero -> 6,6
azero <- INFO time_left 53000
azero <- TURN 9,9
azero -> 5,5
opponent <- START 15
azero <- START 15
azero <- INFO time_left 60000
azero <- BEGIN
azero <- INFO time_left 59000
"""


def test_the_clock_each_move_was_charged_comes_from_the_time_left_lines():
    usage = real_manager.clock_usage(LOG, "azero", 60)
    assert usage["games"] == 2
    assert usage["per_move"][1] == {"mean_s": 1.68, "max_s": 2.35, "moves": 2}  # rounded to 0.01 s
    assert usage["per_move"][2] == {"mean_s": 4.65, "max_s": 4.65, "moves": 1}
    assert usage["max_move_s"] == 4.65
    assert usage["clock_left_at_last_move"] == [pytest.approx(0.88), pytest.approx(0.98)]
    assert usage["stop_reasons"] == {"planned time": 1, "hard limit": 1}
    assert usage["simulations_mean"] == 1156


def test_time_losses_crashes_and_errors_in_the_managers_output_are_found():
    stdout = """\
timeoutTurn = 5000
[1] Started game 1 of 2 (azero vs opponent)
[1] engine azero timeout at 12 moves after opening
[1] Finished game 1 (azero vs opponent): 0-1 {White win by time forfeit}
[1] Finished game 2 (opponent vs azero): 1-0 {Black win by five connection}
Score of azero vs opponent: 0 - 2 - 0  [0.000] 2
"""
    checked = real_manager.check_output(stdout)
    assert checked["problems"] == ["[1] engine azero timeout at 12 moves after opening",
                                   "[1] Finished game 1 (azero vs opponent): 0-1 {White win by time forfeit}"]
    assert checked["results"] == ["azero vs opponent: 0-1 {White win by time forfeit}",
                                  "opponent vs azero: 1-0 {Black win by five connection}"]
    assert real_manager.check_output("timeoutTurn = 5000\ntimeoutMatch = 60000\n")["problems"] == []


def test_openings_are_distinct_and_on_the_board():
    openings = real_manager.openings()
    assert len(set(openings)) == len(openings) >= 40
    for opening in openings:
        numbers = [int(n) for n in opening.replace(" ", "").split(",")]
        stones = list(zip(numbers[0::2], numbers[1::2]))
        assert len(set(stones)) == len(stones) and all(abs(v) <= 2 for stone in stones for v in stone)


MANAGER = os.environ.get("AZERO_C_GOMOKU_CLI", "")


@pytest.mark.skipif(not (MANAGER and os.access(MANAGER, os.X_OK)),
                    reason="c-gomoku-cli is not built: set AZERO_C_GOMOKU_CLI to its binary (see "
                           "docs/engine/real_manager.py --source to build it from a clone)")
def test_two_games_under_a_match_clock_without_time_losses_crashes_or_errors(tmp_path):
    engine = real_manager.engine_command(sys.executable, str(ROOT / "checkpoints" / "gomoku9.safetensors"), None)
    opponent = real_manager.engine_command(sys.executable, None, "heuristic")
    summary = real_manager.play(Path(MANAGER), tmp_path, engine, opponent, size=9, rule=0, games=2, tc="20/2",
                                max_memory=real_manager.DEFAULT_MAX_MEMORY)
    assert summary["manager_status"] == 0
    assert summary["problems"] == [] and summary["engine_errors"] == [], summary
    assert len(summary["results"]) == 2
    assert all(left > 0 for left in summary["clock"]["azero"]["clock_left_at_last_move"])
