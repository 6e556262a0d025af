"""The arena under faults: a killed command, two commands on one database, hostile database files, broken players."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from proc_tools import children, session_processes
from tiny_nets import TINY, tiny_checkpoint

from azero.arena.store import ArenaError, ArenaStore
from azero.arena.tournament import GameKind, run_tournament
from azero.cli import main
from azero.play.session import PlaySession
from games.constants import BLACK, WHITE

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")
SMALL = GameKind("freestyle", 7, 4)
SMALL_ARGS = ["--size", "7", "--n-in-row", "4"]
ON_LINUX = Path("/proc/self/stat").exists()


# -- helpers ------------------------------------------------------------------------
def _fill(db: Path, games: int = 6) -> None:
    """A small arena database: heuristic beats random ``games`` times."""
    with ArenaStore(db) as store:
        heuristic, random = store.register("heuristic").id, store.register("random").id
        for i in range(games):
            black, white = (heuristic, random) if i % 2 == 0 else (random, heuristic)
            store.record_game(black=black, white=white, rule="freestyle", size=7, n_in_row=4, opening=[],
                              moves=[0, 1, 2], winner=BLACK if black == heuristic else WHITE, reason="five")


def _foreign_database(path: Path) -> Path:
    """Another program's SQLite file: tables of its own (one named ``meta``, even), no arena schema row."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    db.execute("CREATE TABLE meta (name TEXT, value TEXT)")
    db.execute("INSERT INTO notes (text) VALUES ('keep me')")
    db.commit()
    db.close()
    return path


def _can_write(path: Path) -> bool:
    try:
        if path.is_dir():
            probe = path / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        else:
            with open(path, "r+b"):
                pass
        return True
    except OSError:
        return False


@contextmanager
def unwritable(path: Path):
    """``path`` (a file or a folder) read-only for this user while inside.

    chmod for an ordinary user; root ignores modes, so for root the immutable
    attribute (chattr +i) instead; the test is skipped where neither holds.
    """
    mode = path.stat().st_mode
    immutable = False
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        if _can_write(path) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode == 0
        if _can_write(path):
            pytest.skip("cannot make a file read-only for this user here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        path.chmod(mode)


def _one_line_error(err: str, *words: str) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)


def _stored_games(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return sqlite3.connect(db, timeout=5).execute("SELECT COUNT(*) FROM games").fetchone()[0]
    except sqlite3.Error:
        return 0


# -- 1. kill -9 of the command ends its workers too ----------------------------------------
@pytest.mark.skipif(not ON_LINUX, reason="finds the processes through /proc (Linux)")
def test_workers_die_with_their_command_after_kill_9(tmp_path):
    db = tmp_path / "a.sqlite"
    # Enough games that the workers are still busy when the command is killed, however fast the machine.
    args = [sys.executable, "-m", "azero.cli", "arena", "run", "--db", str(db), "--workers", "2", "--games", "48",
            "--no-progress", "heuristic", "random", "pure:300", "--size", "9"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 300
        workers = []
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.3)
            workers = [c for c in children(proc.pid)
                       if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
            if workers and _stored_games(db) >= 1:
                break
        assert proc.poll() is None and workers, "the command ended, or no worker was seen, before the kill"
        os.kill(proc.pid, signal.SIGKILL)  # the command alone: its workers are left to notice
        proc.wait(timeout=30)
        deadline = time.time() + 15  # a worker looks every PARENT_POLL_S, then has ORPHAN_GRACE_S
        while time.time() < deadline and session_processes(proc.pid):
            time.sleep(0.2)
        left = session_processes(proc.pid)
        assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left if Path(f"/proc/{pid}").exists()]
    finally:
        for pid in session_processes(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


# -- 2. two commands on one database share the schedule, each game played once ------------
def _stored_this_time(err: str) -> int:
    found = re.findall(r"stored (\d+) games this time", err)
    assert len(found) == 1, err
    return int(found[0])


def test_two_runs_at_once_on_one_database_play_each_game_once_and_say_who_played_it(tmp_path):
    db = tmp_path / "a.sqlite"
    args = [sys.executable, "-m", "azero", "arena", "run", "random", "heuristic", "pure:200", "pure:201",
            *SMALL_ARGS, "--games", "4", "--db", str(db), "--no-progress"]
    runs = [subprocess.Popen([*args, "--workers", workers], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for workers in ("2", "1")]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    with ArenaStore(db) as store:
        keys = [g.schedule_key for g in store.games()]
        assert not store.db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]  # every claim was released
    assert len(keys) == 24 and len(set(keys)) == 24  # 6 pairings x 4 games, each stored once
    stored = [_stored_this_time(err) for _, err in outputs]
    assert sum(stored) == 24, outputs
    for count, (_, err) in zip(stored, outputs):
        already = int(re.search(r"(\d+) of 24 were already stored", err).group(1))
        others = re.search(r"(\d+) were (?:played by|left to) another process", err)
        assert count + already + (int(others.group(1)) if others else 0) == 24, err


def test_games_claimed_by_a_live_process_are_left_to_it_and_free_once_it_is_gone(tmp_path):
    import socket

    db = tmp_path / "a.sqlite"
    players = ["random", "heuristic"]
    with ArenaStore(db) as store:
        from azero.arena.tournament import schedule

        keys = [g.key for g in schedule(store, players, SMALL, 4)]
        assert store.claim(keys[:1]) == keys[:1]  # creates the claims table
        store.release_claims(keys[:1])
        live = os.getppid()  # a process that is surely alive, and not this one
        finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        host = socket.gethostname()
        rows = [(keys[0], time.time(), live, host), (keys[1], time.time(), int(finished), host),
                (keys[2], time.time() - 30 * 24 * 3600, live, host)]  # live, dead, and a claim long expired
        with store.db:
            store.db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?)", rows)
        assert store.claim(keys[:3]) == keys[1:3]
        store.release_claims(keys[1:3])
    summary = run_tournament(db, players, SMALL, 4, progress=False)
    assert (summary.played, summary.left_to_others, summary.others_stored) == (3, 1, 0)
    with ArenaStore(db) as store:
        assert len(store.games()) == 3
        assert [row[0] for row in store.db.execute("SELECT schedule_key FROM claims")] == [keys[0]]
        with store.db:
            store.db.execute("UPDATE claims SET pid = ?", (int(finished),))  # its process is gone now
    summary = run_tournament(db, players, SMALL, 4, progress=False)
    assert (summary.played, summary.already_played, summary.left_to_others) == (1, 3, 0)
    assert main(["arena", "run", *players, *SMALL_ARGS, "--games", "4", "--db", str(db), "--no-progress"]) == 0


# -- 4. hostile database files -------------------------------------------------------------
def test_a_read_only_database_shows_its_ratings_and_refuses_a_run_in_one_line(tmp_path, capsys):
    db = tmp_path / "a.sqlite"
    _fill(db)
    run = ["arena", "run", "random", "heuristic", *SMALL_ARGS, "--games", "2", "--db", str(db), "--workers", "1",
           "--no-progress"]
    before = db.read_bytes()
    with unwritable(db):
        assert main(["arena", "ratings", "--db", str(db)]) == 0
        out, err = capsys.readouterr()
        assert "heuristic (anchor)" in out and "6 games" in out
        _one_line_error(err, "read-only", "not kept")
        assert main(run) == 2
        _one_line_error(capsys.readouterr().err, "read-only")
    assert db.read_bytes() == before


def test_a_database_in_a_read_only_folder_shows_its_ratings_and_refuses_a_run(tmp_path, capsys):
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "a.sqlite"
    _fill(db)
    before = db.read_bytes()
    with unwritable(folder):
        assert main(["arena", "ratings", "--db", str(db), "--json"]) == 0
        out, err = capsys.readouterr()
        assert '"anchor": "heuristic"' in out
        _one_line_error(err, "read-only")
        assert main(["arena", "run", "random", "heuristic", *SMALL_ARGS, "--games", "2", "--db", str(db),
                     "--workers", "1", "--no-progress"]) == 2
        _one_line_error(capsys.readouterr().err, "read-only")
    assert db.read_bytes() == before


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path, capsys):
    other = _foreign_database(tmp_path / "notes.sqlite")
    before = other.read_bytes()
    for command in (["arena", "ratings", "--db", str(other)],
                    ["arena", "run", "random", "heuristic", *SMALL_ARGS, "--games", "2", "--db", str(other),
                     "--workers", "1", "--no-progress"],
                    ["arena", "export", "--db", str(other)]):
        assert main(command) == 2, command
        _one_line_error(capsys.readouterr().err, "not an arena database", "notes")
    with pytest.raises(ArenaError, match="not an arena database"):
        ArenaStore(other)
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]  # no WAL files beside it either


def test_an_empty_file_is_refused_not_made_into_a_database(tmp_path, capsys):
    empty = tmp_path / "a.sqlite"
    empty.touch()
    for command in (["arena", "ratings", "--db", str(empty)],
                    ["arena", "run", "random", "heuristic", *SMALL_ARGS, "--games", "2", "--db", str(empty),
                     "--workers", "1", "--no-progress"]):
        assert main(command) == 2, command
        _one_line_error(capsys.readouterr().err, "empty", "delete it")
    assert empty.stat().st_size == 0


def test_the_committed_database_reads_as_before_and_a_copy_takes_new_games(tmp_path):
    shipped = REPO / "checkpoints" / "arena.sqlite"
    before = shipped.read_bytes()
    with ArenaStore(shipped, read_only=True) as store:
        assert store.read_only and len(store.games()) > 0
    assert shipped.read_bytes() == before
    assert not Path(f"{shipped}-wal").exists() and not Path(f"{shipped}-shm").exists()
    copy = tmp_path / "arena.sqlite"
    copy.write_bytes(before)
    with ArenaStore(copy) as store:
        games = len(store.games())
    summary = run_tournament(copy, ["random", "heuristic"], SMALL, 2, progress=False)
    assert summary.played == 2
    with ArenaStore(copy) as store:
        assert len(store.games()) == games + 2


# -- 5. a broken player is found before the database is made -------------------------------
def _lying_checkpoint(path: Path) -> Path:
    """A checkpoint whose header reads well but whose weights are not the net it describes."""
    import json

    from azero.model.checkpoint import CheckpointInfo, save_tensors
    from azero.model.network import NetConfig, PolicyValueNet

    net = PolicyValueNet(NetConfig(**TINY))
    described = dict(NetConfig(**TINY).to_dict(), channels=2 * TINY["channels"])
    info = CheckpointInfo(rule="freestyle", size=7, n_in_row=4, net=described)
    save_tensors(path, net.state_dict(), json.loads(info.to_json()))
    return path


def test_a_broken_player_is_refused_before_the_database_is_made(tmp_path, capsys):
    lying = _lying_checkpoint(tmp_path / "lying.safetensors")
    good = tiny_checkpoint(tmp_path / "good.safetensors")
    db = tmp_path / "new.sqlite"
    for players, words in [([f"az:{lying}", "random"], "weights do not fit"),
                           (["random", "--candidate", f"az:{lying}:sims=8"], "weights do not fit"),
                           ([f"az:{tmp_path / 'missing.safetensors'}", "random"], "no checkpoint"),
                           ([f"az:{good}", "pbrain:engine-that-is-not-there"], "engine-that-is-not-there"),
                           (["random", f"pbrain:{sys.executable}", *SMALL_ARGS], "five in a row")]:
        assert main(["arena", "run", *players, "--games", "2", "--db", str(db), "--workers", "1",
                     "--no-progress"]) == 2, players
        _one_line_error(capsys.readouterr().err, words)
        assert not db.exists(), players
    with pytest.raises(ValueError, match="weights do not fit"):
        run_tournament(db, [f"az:{lying}", "random"], SMALL, 2, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.safetensors", "lying.safetensors"]


# -- 6. the window goes on when the database cannot take its game -------------------------------
@pytest.mark.parametrize("where", ["folder", "foreign", "empty"])
def test_a_window_game_that_cannot_be_recorded_says_so_and_the_window_goes_on(tmp_path, where):
    path = {"folder": tmp_path, "foreign": tmp_path / "notes.sqlite", "empty": tmp_path / "empty.sqlite"}[where]
    if where == "foreign":
        _foreign_database(path)
    elif where == "empty":
        path.touch()
    before = None if path.is_dir() else path.read_bytes()
    session = PlaySession(size=9, human=BLACK, human_name="Ann", ai_spec="heuristic", db_path=str(path))
    session.play(40)
    session.resign()
    assert session.over and not session.recorded
    text = session.result_text()
    assert text.startswith("the AI wins (resignation); not recorded: ") and "\n" not in text, text
    assert len(text) < 200, text
    session.new_game()
    assert not session.over and session.result_text() == ""
    if before is not None:
        assert path.read_bytes() == before
