"""The arena: players from specs, game endings, the SQLite store under concurrent writers, resume, ratings, plot, export."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from proc_tools import children
from tiny_nets import tiny_checkpoint

from azero.arena.match import play_games
from azero.arena.report import export_pgn, head_to_head, pick_kind, plot_elo, rate
from azero.arena.store import ArenaError, ArenaStore
from azero.arena.tournament import GameKind, pairings, run_tournament, schedule
from azero.cli import main
from azero.model.evaluator import UniformEvaluator
from azero.players.factory import make_player
from azero.players.forfeit import Forfeit
from azero.players.network import NetPlayer
from azero.players.simple import RandomPlayer
from azero.players.spec import parse_spec
from azero.search.openings import balanced_openings, openings_from_file
from games.constants import BLACK, DRAW, WHITE
from games.gomoku import Gomoku

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")
SMALL = GameKind("freestyle", 7, 4)


# -- player specs ------------------------------------------------------------
def test_specs_parse_with_options_and_bad_ones_say_what_is_accepted():
    spec = parse_spec("az:some/dir:with:colons.safetensors:time=0.5:sims=900")
    assert (spec.path, spec.simulations, spec.seconds, spec.timed) == ("some/dir:with:colons.safetensors", 900, 0.5, True)
    assert parse_spec("az:x.safetensors").simulations == 400 and not parse_spec("az:x.safetensors").timed
    assert parse_spec("pbrain:engine --fast").command == "engine --fast" and parse_spec("pbrain:e").timed
    assert parse_spec("human:Ann Lee").name == "Ann Lee"
    assert (parse_spec("az:x:leafvct=300:sims=8").leaf_vct, parse_spec("az:x").leaf_vct) == (300, 0)
    for bad in ["", "pure:", "pure:-3", "az:", "az:x:sims=0", "az:x:sims=5:sims=6", "az:x:time=nan", "az:x:time=-1",
                "az:x:leafvct=-1", "az:x:leafvct=2:leafvct=2", "az:x:vct=0:leafvct=5",
                "pbrain:", "human:", "human:" + "x" * 41, "heuristic:3", "chess"]:
        with pytest.raises(ValueError):
            parse_spec(bad)


def test_a_person_cannot_be_asked_for_moves_and_cannot_enter_a_tournament(tmp_path):
    with pytest.raises(RuntimeError, match="window"):
        make_player("human:Ann").choose_moves([Gomoku(7)])
    with pytest.raises(ArenaError, match="window"):
        run_tournament(tmp_path / "a.sqlite", ["human:Ann", "random"], SMALL, 2)


def test_a_timed_net_player_thinks_by_the_clock_and_still_searches():
    player = NetPlayer(UniformEvaluator(), 5000, seconds=0.05)
    game = Gomoku.from_moves([24, 25], 7, "freestyle", 4)
    move = player.choose_moves([game])[0]
    assert game.is_legal(move) and 8 <= player.last_simulations[0] < 5000


# -- game endings ----------------------------------------------------------------
class Scripted:
    """Answers from a list: ints are moves, anything else is returned as is (a Forfeit, garbage)."""

    def __init__(self, answers):
        self.answers = list(answers)

    def choose_moves(self, games):
        return [self.answers.pop(0) for _ in games]

    def close(self):
        pass


def test_illegal_answers_and_forfeits_lose_the_game_for_the_one_who_gave_them():
    def one(answers, opening=(), colour=BLACK):
        return play_games(Scripted(answers), RandomPlayer(0), [list(opening)], [colour], 7, "freestyle", 4)[0]

    timeout = one([Forfeit("timeout", "slow")])
    assert (timeout.winner, timeout.reason, timeout.detail) == (WHITE, "timeout", "slow")
    assert (one(["x,y"]).winner, one(["x,y"]).reason) == (WHITE, "illegal")
    assert (one([49]).reason, one([-1]).reason) == ("illegal", "illegal")  # off the board
    assert one([0], opening=[0, 1]).reason == "illegal"  # an occupied point
    as_white = one([Forfeit("crash")], opening=[24], colour=WHITE)
    assert (as_white.winner, as_white.reason) == (BLACK, "crash")


def test_other_games_of_a_batch_go_on_after_one_is_forfeited():
    games = play_games(Scripted([Forfeit("crash"), 0, 1, 2, 3]), Scripted([7, 8, 9]), [[], []], [BLACK, BLACK],
                       7, "freestyle", 4)
    assert [(g.winner, g.reason) for g in games] == [(WHITE, "crash"), (BLACK, "five")]


def test_a_renju_forbidden_answer_loses_as_forbidden():
    # Black's double three at the centre: b at (2,3),(3,2) and (4,3),(3,4) make a double three on (3,3)... built from a
    # known position: two open twos crossing at the point to play.
    size = 15
    c = 7 * size + 7
    opening = [c - 1, 0, c - 2, 2, c - size, 4, c - 2 * size, 6]  # black: two stones left and two above the centre
    game = Gomoku.from_moves(opening, size, "renju")
    assert game.forbidden_mask()[c], "the test position should make the centre a double three"
    result = play_games(Scripted([c]), RandomPlayer(0), [opening], [BLACK], size, "renju", 5)[0]
    assert (result.reason, result.winner) == ("forbidden", WHITE)


# -- the store -------------------------------------------------------------------
def test_a_checkpoint_is_one_player_wherever_it_lies_and_another_file_is_another(tmp_path):
    first = tiny_checkpoint(tmp_path / "run" / "checkpoints" / "step-00000005.safetensors", step=5)
    copy = tmp_path / "elsewhere" / "renamed.safetensors"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    other = tiny_checkpoint(tmp_path / "other" / "run" / "checkpoints" / "step-00000005.safetensors", seed=1)
    with ArenaStore(tmp_path / "a.sqlite") as store:
        a = store.register(f"az:{first}:sims=10")
        assert store.register(f"az:{copy}:sims=10").id == a.id
        assert store.register(f"az:{first}:sims=20").id != a.id  # another search setting is another player
        b = store.register(f"az:{other}:sims=10")
        assert (a.label, a.step, a.run, a.size) == ("run/step-00000005@10", 5, "run", 7)
        assert b.id != a.id and b.label.startswith("run/step-00000005@10~")
        # The search before VCT is another player, under the key its games were stored with then.
        before_vct = store.register(f"az:{first}:sims=10:vct=0")
        assert before_vct.id != a.id and before_vct.label == "run/step-00000005@10-vcf"
        assert ":vct=" not in before_vct.key and a.key.endswith(":sims=10:vct=20000")
        assert store.register(f"az:{first}:sims=10:vct=20000").id == a.id  # the default, said out loud
        assert store.register(f"az:{first}:sims=10:vct=500").label == "run/step-00000005@10+vct500"
        defended = store.register(f"az:{first}:sims=10:defence=1")  # threat defence on: another search
        assert defended.id != a.id and defended.label == "run/step-00000005@10+defence"
        with pytest.raises(ArenaError, match="defence=1 needs the VCT"):
            store.register(f"az:{first}:sims=10:vct=0:defence=1")
        # VCT at the tree's leaves is another search again, and says so in its label and key.
        leafy = store.register(f"az:{first}:sims=10:leafvct=300")
        assert leafy.id not in (a.id, defended.id) and leafy.label == "run/step-00000005@10+leafvct300"
        assert leafy.key.endswith(":sims=10:vct=20000:leafvct=300")
        with pytest.raises(ArenaError, match="leafvct needs the root's VCT"):
            store.register(f"az:{first}:sims=10:vct=0:leafvct=300")
        # The same file under a third setting whose shown label clashes again still gets a name of its own.
        timed = [store.register(f"az:{first}:time=1{cap}") for cap in ("", ":sims=500", ":sims=600")]
        assert len({t.label for t in timed}) == 3 and len({t.id for t in timed}) == 3
        assert store.register("pbrain:engine", turn_ms=100).id != store.register("pbrain:engine", turn_ms=3000).id
        with pytest.raises(ArenaError, match="no checkpoint"):
            store.register(f"az:{tmp_path / 'missing.safetensors'}")


def test_one_player_under_two_specs_is_refused_and_never_plays_itself(tmp_path, capsys):
    path = tiny_checkpoint(tmp_path / "ck.safetensors")
    same = [f"az:{path}:sims=8", f"az:{tmp_path}/./ck.safetensors:sims=8", "random"]
    with pytest.raises(ArenaError, match="same player"):
        run_tournament(tmp_path / "a.sqlite", same, SMALL, 2, progress=False)
    assert main(["arena", "run", "random", "random ", "--size", "7", "--n-in-row", "4", "--games", "2",
                 "--db", str(tmp_path / "b.sqlite")]) == 2
    assert "same player" in capsys.readouterr().err
    with ArenaStore(tmp_path / "a.sqlite") as store:
        me = store.register("random").id
        with pytest.raises(ArenaError, match="cannot play itself"):
            store.record_game(black=me, white=me, rule="freestyle", size=7, n_in_row=4, opening=[], moves=[0],
                              winner=BLACK, reason="five")


def test_bad_requests_of_the_run_command_are_one_line(tmp_path, capsys):
    path = tiny_checkpoint(tmp_path / "ck.safetensors")
    db = str(tmp_path / "a.sqlite")
    for args, words in [(["random", "heuristic", "--candidate", "human:Ann"], "person"),
                        ([f"az:{path}", "random", "--device", "bogus"], "unknown device"),
                        ([f"az:{path}", "random", "--n-in-row", "5"], "4 in a row"),
                        (["random", "heuristic", "--size", "7", "--n-in-row", "0"], "n_in_row"),
                        (["random", "heuristic", "--openings", str(path)], "not a text file")]:
        assert main(["arena", "run", *args, "--games", "2", "--db", db, "--no-progress"]) == 2, args
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    bad = tmp_path / "junk.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArenaError, match="not a usable arena database"):
        ArenaStore(bad)


WRITER = textwrap.dedent("""
    import sys
    from azero.arena.store import ArenaStore
    from games.constants import BLACK, WHITE
    db, worker = sys.argv[1], int(sys.argv[2])
    store = ArenaStore(db)
    a, b = store.register("random").id, store.register("heuristic").id
    for i in range(40):
        shared = i < 25  # every writer tries the same 25 scheduled games: each must be stored once
        key = f"shared-{i}" if shared else f"w{worker}-{i}"
        store.record_game(black=a, white=b, rule="freestyle", size=9, n_in_row=5, opening=[40], moves=[40, 41, 42],
                          winner=BLACK if i % 2 else WHITE, reason="five", schedule_key=key)
""")


def test_concurrent_writer_processes_lose_nothing_and_count_nothing_twice(tmp_path):
    db = tmp_path / "arena.sqlite"
    ArenaStore(db).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(w)], cwd=REPO, env=ENV,
                              stderr=subprocess.PIPE, text=True) for w in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    with ArenaStore(db) as store:
        keys = [g.schedule_key for g in store.games()]
        assert len(keys) == 25 + 4 * 15 and len(set(keys)) == len(keys)
        assert len(store.players()) == 2
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_window_game_rates_people_too(tmp_path):
    path = tiny_checkpoint(tmp_path / "gomoku7.safetensors")
    with ArenaStore(tmp_path / "a.sqlite") as store:
        for i in range(3):
            game = Gomoku.from_moves([0, 7, 1, 8, 2, 9, 3], 7, "freestyle", 4)  # black makes four in a row
            human_black = i != 1
            black, white = ("human:Ann", f"az:{path}:sims=50") if human_black else (f"az:{path}:sims=50", "human:Ann")
            assert store.record_played(black, white, game)
        resigned = Gomoku.from_moves([24, 25], 7, "freestyle", 4)
        store.record_played("human:Ann", f"az:{path}:sims=50", resigned, reason="resign", winner=WHITE)
        with pytest.raises(ArenaError, match="finished"):
            store.record_played("human:Ann", f"az:{path}:sims=50", resigned)
        with pytest.raises(ArenaError, match="trained for freestyle 7x7"):
            store.record_played("human:Ann", f"az:{path}:sims=50", Gomoku.from_moves([0, 1], 9), winner=BLACK)
        ratings = {r.player: r for r in rate(store, SMALL, anchor="human:Ann")}
        assert (ratings["human:Ann"].wins, ratings["human:Ann"].losses) == (2, 2)
        assert store.games()[-1].reason == "resign"


# -- tournaments ------------------------------------------------------------------
def test_the_schedule_plays_each_opening_twice_with_colours_swapped(tmp_path):
    with ArenaStore(tmp_path / "a.sqlite") as store:
        games = schedule(store, ["random", "heuristic", "pure:10"], SMALL, 6)
        again = schedule(store, ["pure:10", "heuristic", "random"], SMALL, 6)
        gauntlet = schedule(store, ["random", "heuristic", "pure:10"], SMALL, 6, candidate="pure:10")
    assert len(games) == 3 * 6 and len({g.key for g in games}) == 18
    assert {g.key for g in again} == {g.key for g in games}  # the order players are listed in does not matter
    assert len(gauntlet) == 12 and all("pure:10" in (g.first, g.second) for g in gauntlet)
    for pair in {(g.first, g.second) for g in games}:
        mine = [g for g in games if (g.first, g.second) == pair]
        assert [g.first_colour for g in mine] == [BLACK, WHITE] * 3
        assert mine[0].opening == mine[1].opening and len({g.opening for g in mine}) == 3
    assert pairings(["a", "b", "c"], candidate="b") == [("b", "a"), ("b", "c")]


def test_openings_are_balanced_by_a_short_search_and_grow_as_a_prefix(tmp_path):
    five = balanced_openings(9, "freestyle", 5, 5, 2, seed=3)
    eight = balanced_openings(9, "freestyle", 5, 8, 2, seed=3)
    assert eight[:5] == five and len({tuple(o) for o in eight}) == 8
    # On a board too small for enough balanced openings the stored set still only grows, never repeats itself.
    with ArenaStore(tmp_path / "a.sqlite") as store:
        one = store.openings("freestyle", 7, 3, 2, 0, 1)
        three = store.openings("freestyle", 7, 3, 2, 0, 3)
    assert three[:1] == one and len({tuple(o) for o in three}) == 3


def test_an_open_three_with_the_move_is_not_a_balanced_opening():
    from azero.search.openings import BALANCE_HIGH, side_to_move_score

    c = 7 * 15 + 7
    three = [c, c + 30, c + 1, c + 32, c + 2, c + 34]  # black h8 i8 j8 open three; white far away; black to move
    assert side_to_move_score(three, 15, "freestyle", 5, seed=0) > BALANCE_HIGH


def test_openings_from_a_file(tmp_path):
    text = tmp_path / "openings.txt"
    text.write_text("# my set\nh8 i9 j8\n\ne5, f6\n")
    assert openings_from_file(text, 15, "freestyle", 5) == [[7 * 15 + 7, 6 * 15 + 8, 7 * 15 + 9], [10 * 15 + 4, 9 * 15 + 5]]
    text.write_text("h8 h8\n")
    with pytest.raises(ValueError, match="line 1"):
        openings_from_file(text, 15, "freestyle", 5)


def test_a_tournament_stores_every_game_and_a_larger_one_adds_only_the_new(tmp_path):
    db = tmp_path / "a.sqlite"
    players = ["random", "heuristic", "pure:30"]
    first = run_tournament(db, players, SMALL, 4, progress=False)
    assert (first.scheduled, first.played, first.already_played) == (12, 12, 0)
    again = run_tournament(db, players, SMALL, 4, progress=False)
    assert (again.played, again.already_played) == (0, 12)
    more = run_tournament(db, players, SMALL, 6, workers=2, progress=False)
    assert (more.scheduled, more.played, more.already_played) == (18, 6, 12)
    with ArenaStore(db) as store:
        games = store.games()
        assert len(games) == 18
        for g in games:
            replay = Gomoku(7, "freestyle", 4)
            for move in g.moves.split():
                replay.play(move)
            assert {"black": BLACK, "white": WHITE, "draw": DRAW}[g.result] == replay.winner
            assert g.moves.startswith(g.opening)
        assert sum(head_to_head(store, SMALL, "heuristic", "random")) == 6


def test_an_interrupted_tournament_resumes_without_losing_or_repeating_games(tmp_path, monkeypatch):
    import azero.players.factory

    db = tmp_path / "a.sqlite"
    real = azero.players.factory.make_player
    class Impatient:
        """Random moves, then Ctrl-C in the middle of the batch, once some of its games have ended."""

        def __init__(self):
            self.inner = RandomPlayer(5)
            self.first_batch = None

        def choose_moves(self, games):
            self.first_batch = self.first_batch or len(games)
            if len(games) < self.first_batch:
                raise KeyboardInterrupt
            return self.inner.choose_moves(games)

        def close(self):
            pass

    monkeypatch.setattr(azero.players.factory, "make_player", lambda spec, **kw: Impatient() if spec == "random" else real(spec, **kw))
    stopped = run_tournament(db, ["random", "heuristic"], SMALL, 16, progress=False)
    assert stopped.interrupted and 0 < stopped.played < 16
    with ArenaStore(db) as store:
        before = {g.schedule_key: g.moves for g in store.games()}
    assert len(before) == stopped.played
    monkeypatch.setattr(azero.players.factory, "make_player", real)
    resumed = run_tournament(db, ["random", "heuristic"], SMALL, 16, progress=False)
    assert (resumed.played, resumed.already_played) == (16 - len(before), len(before))
    with ArenaStore(db) as store:
        after = {g.schedule_key: g.moves for g in store.games()}
    assert len(after) == 16 and all(after[k] == v for k, v in before.items())


def test_kill_9_of_the_command_then_the_same_command_finishes_the_tournament(tmp_path):
    db = tmp_path / "a.sqlite"
    args = [sys.executable, "-m", "azero", "arena", "run", "random", "heuristic", "pure:400", "--size", "9",
            "--games", "12", "--db", str(db), "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if db.exists():
            try:
                stored = sqlite3.connect(db, timeout=5).execute("SELECT COUNT(*) FROM games").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 3:
                break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers, mid-game
    proc.wait(timeout=30)
    done = subprocess.run(args, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with ArenaStore(db) as store:
        keys = [g.schedule_key for g in store.games()]
    assert len(keys) == 36 and len(set(keys)) == 36
    assert re.search(r"pure:400 +-?\d+ +-?\d+ \.\. -?\d+ +24 ", done.stdout), done.stdout


# -- reading the results ------------------------------------------------------
def _fill(store, results, kind=SMALL):
    """Store synthetic games: (black spec, white spec, winner) rows."""
    for black, white, winner in results:
        b, w = store.register(black).id, store.register(white).id
        store.record_game(black=b, white=w, rule=kind.rule, size=kind.size, n_in_row=kind.n_in_row, opening=[],
                          moves=[0, 1, 2], winner=winner, reason="five")


def test_ratings_command_prints_intervals_and_refuses_unclear_requests(tmp_path, capsys):
    db = tmp_path / "a.sqlite"
    with ArenaStore(db) as store:
        _fill(store, [("heuristic", "random", BLACK)] * 6 + [("random", "heuristic", BLACK)] * 2
              + [("pure:5", "heuristic", DRAW)] * 4)
    assert main(["arena", "ratings", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "heuristic (anchor)" in out and "fixed" in out and re.search(r"random +-\d+ +-\d+ \.\. -?\d+ +8 +0\.250", out)
    assert main(["arena", "ratings", "--db", str(db), "--json", "--anchor", "random", "--anchor-elo", "1000"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["anchor"] == "random" and {r["player"]: r["elo"] for r in table["ratings"]}["random"] == 1000
    assert main(["arena", "ratings", "--db", str(db), "--anchor", "nobody"]) == 2
    assert "choose --anchor among: heuristic, pure:5, random" in capsys.readouterr().err
    with ArenaStore(db) as store:
        _fill(store, [("heuristic", "random", BLACK)], GameKind("renju", 15, 5))
    assert main(["arena", "ratings", "--db", str(db)]) == 2
    assert "several kinds of game" in capsys.readouterr().err
    assert main(["arena", "ratings", "--db", str(db), "--rule", "renju"]) == 0
    assert main(["arena", "ratings", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no arena database" in capsys.readouterr().err
    with ArenaStore(db) as store:
        assert store.db.execute("SELECT COUNT(DISTINCT fitted_at) FROM ratings").fetchone()[0] >= 2  # fits are kept


def test_plot_draws_each_runs_elo_against_step(tmp_path, capsys):
    db = tmp_path / "a.sqlite"
    specs = [f"az:{tiny_checkpoint(tmp_path / 'runA' / 'checkpoints' / f'step-{s:08d}.safetensors', seed=s, step=s)}:sims=8"
             for s in (0, 100, 200)]
    rng = np.random.default_rng(0)
    rows = []
    for strength, spec in enumerate(specs):  # later checkpoints win more often against the references
        for opponent in ("heuristic", "pure:50"):
            for _ in range(10):
                rows.append((spec, opponent, BLACK if rng.random() < 0.2 + 0.3 * strength else WHITE))
    with ArenaStore(db) as store:
        _fill(store, rows)
        ratings = rate(store, pick_kind(store))
        elo = {r.player: r.elo for r in ratings}
        assert elo["runA/step-00000000@8"] < elo["runA/step-00000200@8"]
        out = plot_elo(store, ratings, SMALL, tmp_path / "plots" / "elo.png", run="runA")
        assert out.stat().st_size > 10_000
        with pytest.raises(ArenaError, match="runs with ratings: runA"):
            plot_elo(store, ratings, SMALL, tmp_path / "x.png", run="runB")
    assert main(["arena", "plot", "--db", str(db), "--out", str(tmp_path / "cli.png")]) == 0
    assert (tmp_path / "cli.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_writes_pgn_that_rating_tools_read(tmp_path, capsys):
    db = tmp_path / "a.sqlite"
    with ArenaStore(db) as store:
        _fill(store, [("heuristic", "random", BLACK), ("random", "pure:5", WHITE), ('pure:5', "heuristic", DRAW)])
        assert export_pgn(store, tmp_path / "games.pgn") == 3
    text = (tmp_path / "games.pgn").read_text()
    # What BayesElo and Ordo read: White/Black/Result tags and a result token ending each game.
    games = re.findall(r'\[White "([^"]+)"\]\n\[Black "([^"]+)"\]\n\[Result "([^"]+)"\]', text)
    assert games == [("heuristic", "random", "1-0"), ("random", "pure:5", "0-1"), ("pure:5", "heuristic", "1/2-1/2")]
    assert re.findall(r"\} (1-0|0-1|1/2-1/2)\n", text) == ["1-0", "0-1", "1/2-1/2"]
    assert main(["arena", "export", "--db", str(db)]) == 0
    assert capsys.readouterr().out == text


def test_round_trip_an_arena_game_against_azero_speaking_the_protocol(tmp_path):
    """`azero arena run` with a pbrain: player that is `azero pbrain` itself: every game ends on the board."""
    checkpoint = tiny_checkpoint(tmp_path / "net9.safetensors", size=9, n_in_row=5)
    engine = f"pbrain:{sys.executable} -m azero pbrain --checkpoint {checkpoint} --sims 32"
    db = tmp_path / "a.sqlite"
    # 2 s a move: the first move is asked while the engine still loads torch and its net in the background
    # (a pattern stand-in answers), which took over 1.5 s with the whole suite running on 2 cores.
    done = subprocess.run([sys.executable, "-m", "azero", "arena", "run", engine, f"az:{checkpoint}:sims=32", "heuristic",
                           "--games", "2", "--db", str(db), "--turn-ms", "2000", "--workers", "2", "--no-progress"],
                          cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with ArenaStore(db) as store:
        games = store.games()
    assert len(games) == 6 and {g.reason for g in games} <= {"five", "full"}, [(g.reason, g.detail) for g in games]
    assert sum(f"{engine}@2000ms" in (g.black, g.white) for g in games) == 4  # its time control is part of its name
    assert "pbrain:" in done.stdout and "fixed" in done.stdout


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc (Linux)")
def test_a_worker_that_dies_ends_the_run_with_one_line_not_a_hang(tmp_path):
    db = tmp_path / "a.sqlite"
    # Slow enough players that the run is still going when a worker is found, however fast the machine.
    args = [sys.executable, "-m", "azero", "arena", "run", "heuristic", "pure:3000", "pure:3001", "--size", "9",
            "--games", "16", "--db", str(db), "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    killed = False
    while time.time() < deadline and proc.poll() is None and not killed:
        time.sleep(0.3)
        if db.exists() and sqlite3.connect(db, timeout=5).execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'games'").fetchone()[0]:
            if sqlite3.connect(db, timeout=5).execute("SELECT COUNT(*) FROM games").fetchone()[0] >= 1:
                workers = [c for c in children(proc.pid)
                           if "spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    killed = True
    assert killed, "no worker was seen in time"
    _, err = proc.communicate(timeout=120)  # a hang fails here
    assert proc.returncode == 2 and "worker process died" in err and "Traceback" not in err, err
    done = subprocess.run(args, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with ArenaStore(db) as store:
        assert len(store.games()) == 48


def test_a_training_runs_folder_stands_for_its_latest_checkpoint(tmp_path):
    from azero.players.spec import pinned
    from azero.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "runX")
    tiny_checkpoint(folder.checkpoint(10), step=10)
    tiny_checkpoint(folder.checkpoint(20), seed=1, step=20)
    folder.publish(20)
    assert pinned(f"az:{folder.root}:sims=9") == f"az:{folder.checkpoint(20)}:sims=9"
    with ArenaStore(tmp_path / "a.sqlite") as store:
        assert store.register(f"az:{folder.root}:sims=9").label == "runX/step-00000020@9"
    summary = run_tournament(tmp_path / "a.sqlite", [f"az:{folder.root}:sims=4", "random"], SMALL, 2, progress=False)
    assert summary.played == 2
    with pytest.raises(ValueError, match="not a training run"):
        pinned(f"az:{tmp_path}")


def test_a_net_players_analysis_agrees_with_its_move():
    player = NetPlayer(UniformEvaluator(), 64)
    game = Gomoku.from_moves([24, 3, 17, 25, 10], 7, "freestyle", 4)  # black 10-17-24, 3 blocked: white must take 31
    analysis = player.analyse(game)
    assert analysis.move == 31 and analysis.line[0] == 31 and analysis.simulations >= 64
    assert 0.0 <= analysis.win_rate <= 1.0 and analysis.visits.sum() > 0 and analysis.priors.sum() > 0.99
