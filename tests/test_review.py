"""Game review: grading the mover's win-rate drop, the review of a game, and the `azero review` command."""

import json
import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from tiny_nets import tiny_checkpoint  # noqa: E402

from azero.model.evaluator import UniformEvaluator  # noqa: E402
from azero.play.review import GameReview, PositionReview, grade, review_game  # noqa: E402
from azero.players.network import NetPlayer  # noqa: E402
from games import coords  # noqa: E402
from games.constants import BLACK, WHITE  # noqa: E402
from games.gomoku import Gomoku  # noqa: E402
from games.records import GameRecord, save_record  # noqa: E402


def test_grades_follow_the_drop_of_the_movers_win_rate():
    assert [grade(x) for x in (0.0, 0.049, 0.05, 0.099, 0.1, 0.199, 0.2, 1.0)] == [
        None, None, "inaccuracy", "inaccuracy", "mistake", "mistake", "blunder", "blunder"]


def test_each_move_is_judged_from_its_movers_side():
    # Black's win rate: 50% at the start, 52% after black's move, 80% after white's (white lost 28 points), then
    # 50% after black's (black lost 30).  A move the AI would also have played is never graded.
    positions = [PositionReview(0, 0.50, 1, [1, 2], 10), PositionReview(1, 0.52, 3, [3], 10),
                 PositionReview(2, 0.80, 5, [5, 6], 10), PositionReview(3, 0.50, None, [], 10)]
    review = GameReview(9, "freestyle", [1, 4, 7], positions)
    first, second, third = review.move_reviews
    assert (first.colour, first.grade, first.better) == (BLACK, None, None)  # the AI's own choice
    assert (second.colour, second.grade, second.better) == (WHITE, "blunder", 3)
    assert second.before == pytest.approx(0.48) and second.after == pytest.approx(0.20)
    assert (third.colour, third.grade, third.better, third.line) == (BLACK, "blunder", 5, [5, 6])
    assert [m.number for m in review.mistakes(WHITE)] == [2] and len(review.mistakes()) == 2


def ignored_four():
    """9x9: black ignores white's four (h8 instead of f2) and white makes five."""
    moves = ["a2", "b2", "g9", "c2", "i7", "d2", "i5", "e2", "h8", "f2"]
    return Gomoku.from_moves([coords.from_notation(m, 9) for m in moves], 9, "freestyle")


def test_a_review_finds_the_ignored_four_and_the_block_the_ai_wanted():
    game = ignored_four()
    review = review_game(NetPlayer(UniformEvaluator(), 32), game)
    assert len(review.positions) == len(game.moves) + 1
    assert review.black_win_rates[-1] == 0.0 and review.positions[-1].best is None  # white's five: exact
    blunders = [m for m in review.mistakes() if m.grade == "blunder"]
    assert [(m.number, m.colour, m.better) for m in blunders] == [(9, BLACK, coords.from_notation("f2", 9))]
    assert blunders[0].after < 0.02  # after h8 white has a five to play (the first, uniform, visit is averaged in)


def test_a_review_can_be_stopped():
    calls = []
    assert review_game(NetPlayer(UniformEvaluator(), 8), ignored_four(), should_stop=lambda: len(calls) > 2,
                       progress=lambda done, total: calls.append(done)) is None
    assert calls == [1, 2, 3]


def test_the_review_command_prints_json_draws_the_window_and_refuses_bad_input(tmp_path, capsys):
    from azero.cli import main

    net = tiny_checkpoint(tmp_path / "tiny9.safetensors", size=9, n_in_row=5)
    record = tmp_path / "game.sgf"
    save_record(GameRecord.from_game(ignored_four()), record)
    assert main(["review", str(record), "--checkpoint", str(net), "--sims", "16", "--json"]) == 0
    said = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [m["move"] for m in said["moves"]] == ["a2", "b2", "g9", "c2", "i7", "d2", "i5", "e2", "h8", "f2"]
    assert said["moves"][8]["better"] == "f2" and said["moves"][8]["grade"] == "blunder"
    shot = tmp_path / "review.png"
    assert main(["review", str(record), "--checkpoint", str(net), "--sims", "16", "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    assert "black: 1 blunder" in out and "f2" in out and shot.read_bytes()[:4] == b"\x89PNG"
    for bad, why in ((["missing.sgf"], "cannot read it"), ([str(record), "--opponent", "heuristic"], "needs a network"),
                     ([str(record), "--checkpoint", str(net), "--sims", "0"], "--sims must be positive")):
        assert main(["review", *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and why in err[0]
    odd = tmp_path / "odd.psq"
    save_record(GameRecord.from_game(Gomoku.from_moves([coords.from_notation("f6", 12)], 12, "freestyle")), odd)
    assert main(["review", str(odd)]) == 2
    assert "no shipped network plays freestyle 12x12" in capsys.readouterr().err
