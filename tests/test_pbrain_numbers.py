"""The protocol engine takes any whole number a manager sends: ten digits and more, without overflowing anything."""

from __future__ import annotations

import pytest
from fake_players import FirstPointSearcher
from tiny_nets import tiny_checkpoint as save_tiny_checkpoint

from azero.pbrain.engine import PbrainEngine
from azero.pbrain.main import build_engine, parse_arguments
from azero.search.time_manager import plan_move


class BudgetRecorder(FirstPointSearcher):
    """Plays the first legal point and remembers the ordinary seconds it was given for each move."""

    @property
    def seconds(self) -> list[float]:
        return [budget.soft_s for budget in self.budgets]


def answers(engine: PbrainEngine, *lines: str) -> list[str]:
    out = []
    for line in lines:
        out.extend(engine.handle(line))
    for line in out:
        assert "internal error" not in line and "ignored" not in line, out
    return out


NORMAL_BUDGET = plan_move(None, None).soft_s  # no clock: the default time a move


def test_the_no_clock_time_left_after_a_timed_one_gives_normal_thinking_time_again():
    player = BudgetRecorder()
    engine = PbrainEngine(any_game_player=player)
    answers(engine, "START 15", "INFO time_left 1000", "BEGIN")
    assert player.seconds[-1] < 0.1  # 1 s left of the match: a share of it
    answers(engine, "INFO time_left 2147483647", "TURN 7,7")
    assert engine.match_clock.time_left_ms == 2147483647 and engine.match_clock.match_left_ms() is None
    assert player.seconds[-1] == pytest.approx(NORMAL_BUDGET, abs=0.5)


def test_max_memory_of_ten_digits_is_taken():
    engine = PbrainEngine(any_game_player=BudgetRecorder())
    assert answers(engine, "INFO max_memory 2000000000") == []
    assert engine.memory.max_memory_bytes == 2000000000
    assert answers(engine, "START 9") == ["OK"]  # and no MESSAGE saying it was ignored


@pytest.fixture(scope="module")
def net_engine_args(tmp_path_factory):
    checkpoint = save_tiny_checkpoint(tmp_path_factory.mktemp("net") / "tiny9.safetensors", size=9, n_in_row=5)
    return parse_arguments(["--checkpoint", str(checkpoint), "--sims", "30"])


@pytest.mark.parametrize("key", ["timeout_turn", "timeout_match", "time_left", "max_memory"])
def test_huge_values_never_overflow(net_engine_args, key):
    engine = build_engine(net_engine_args)  # a network: its search is sized by time and memory
    for value in ["99999999999", "9" * 60, "+" + "1" * 300, "18446744073709551617"]:
        lines = answers(engine, "START 9", f"INFO {key} {value}", "BEGIN", "TURN 0,0")
        moves = [line for line in lines if line[0].isdigit()]
        assert len(moves) == 2 and len(engine.game.moves) == 3, (value, lines)
        budget = plan_move(engine.match_clock.timeout_turn_ms, engine.match_clock.match_left_ms(), len(engine.game.moves) // 2, 81)
        assert 0 <= budget.soft_s <= budget.hard_s < float("inf")


def test_a_negative_time_left_of_many_digits_means_play_at_once():
    player = BudgetRecorder()
    engine = PbrainEngine(any_game_player=player)
    answers(engine, "START 9", "INFO time_left -" + "9" * 40, "BEGIN")
    assert player.seconds[-1] == 0.0


def test_numbers_of_many_digits_in_commands_are_refused_as_what_they_are():
    engine = PbrainEngine(any_game_player=BudgetRecorder())
    (start,) = answers(engine, "START 12345678901")
    assert start.startswith("ERROR unsupported size")
    answers(engine, "START 9")
    (turn,) = answers(engine, "TURN 12345678901,0")
    assert turn.startswith("ERROR ") and "off the 9x9 board" in turn
    (board,) = answers(engine, "BOARD", "12345678901,0,1", "DONE")
    assert board.startswith("ERROR ") and "off the 9x9 board" in board
