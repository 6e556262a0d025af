"""The arena's SQLite database: players, games (with their moves), openings and fitted ratings.

One file holds everything, in WAL mode so several worker processes write
games at once while readers (``azero arena ratings``) go on reading.  A
scheduled game has a unique ``schedule_key``; it is inserted with ``INSERT
OR IGNORE`` in its own transaction the moment it ends, so an interrupted
tournament resumes by playing only the keys that are missing, and no game
is ever counted twice.

A game being played is *claimed* first (the ``claims`` table: its schedule
key, when, and which process on which machine), so two tournaments on one
database share the schedule instead of both playing every game: each skips
what the other has claimed.  A claim is given back when its game is stored
or its run stops, and counts as given up when its process has ended (kill
-9) or it is older than ``CLAIM_TIMEOUT_S``.  The table is made by the first
claim, so a database that is only read or rated stays as it was.

Only a file that already is an arena database is opened: an empty file or
another program's SQLite database is refused untouched, and a new database
is built under a temporary name and linked into place whole, so no process
ever finds one half made.  Opening a database this user may only read
raises :class:`ArenaReadOnlyError` at once, not at the first write;
``read_only=True`` reads it (or the committed ``checkpoints/arena.sqlite``)
without writing anything.

A player's identity (``players.key``) is what makes its games comparable:
for a checkpoint it is the SHA-256 of the file plus its search setting, so
moving or renaming the file keeps its record, and a different file saved at
the same path is a different player.  ``label`` is the short name people
see in tables and plots.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from azero.players.spec import PLAY_VCT_ROOT_BUDGET, PlayerSpec, parse_spec
from games import coords
from games.constants import BLACK, DRAW, WHITE

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 120_000  # writers wait this long for the lock instead of failing
# A claim this old is given up whoever holds it.  The arena claims a batch of games (arena.BATCH_GAMES) as it starts
# playing them, and even slow players finish a batch well within this; only a process on another machine, whose
# life cannot be checked from here, or a pid since taken by another program, ever needs the timeout.
CLAIM_TIMEOUT_S = 12 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS players (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- identity: 'az:<sha256>:sims=N', 'pure:1000', 'human:Ann', ...
    label TEXT NOT NULL UNIQUE,        -- the name shown in tables and plots
    kind TEXT NOT NULL,                -- random | heuristic | pure | az | pbrain | human
    spec TEXT NOT NULL,                -- the spec it was first registered with
    checkpoint_sha256 TEXT,
    rule TEXT, size INTEGER, n_in_row INTEGER,   -- what a checkpoint was trained for
    step INTEGER, run TEXT,            -- a checkpoint's training step and run folder
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS games (
    id INTEGER PRIMARY KEY,
    schedule_key TEXT UNIQUE,          -- NULL for unscheduled games (people at the window)
    rule TEXT NOT NULL, size INTEGER NOT NULL, n_in_row INTEGER NOT NULL,
    black INTEGER NOT NULL REFERENCES players(id),
    white INTEGER NOT NULL REFERENCES players(id),
    opening TEXT NOT NULL,             -- the opening's moves in notation, 'h8 i9 j8'
    moves TEXT NOT NULL,               -- every move of the game, opening included
    result TEXT NOT NULL CHECK (result IN ('black', 'white', 'draw')),
    reason TEXT NOT NULL,              -- five | full | illegal | forbidden | timeout | crash | resign
    detail TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL,
    played_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS games_by_game ON games (rule, size, n_in_row);
CREATE TABLE IF NOT EXISTS openings (
    rule TEXT NOT NULL, size INTEGER NOT NULL, n_in_row INTEGER NOT NULL,
    stones INTEGER NOT NULL, seed INTEGER NOT NULL, idx INTEGER NOT NULL,
    moves TEXT NOT NULL,
    PRIMARY KEY (rule, size, n_in_row, stones, seed, idx)
);
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY,
    fitted_at REAL NOT NULL,
    rule TEXT NOT NULL, size INTEGER NOT NULL, n_in_row INTEGER NOT NULL,
    anchor TEXT NOT NULL, anchor_elo REAL NOT NULL,
    player INTEGER NOT NULL REFERENCES players(id),
    elo REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
    games INTEGER NOT NULL, score REAL NOT NULL, wins INTEGER NOT NULL, draws INTEGER NOT NULL, losses INTEGER NOT NULL
);
"""

# Made by the first claim, not with the schema: opening a database to read or rate it leaves it as it was.
_CLAIMS_TABLE = """
CREATE TABLE IF NOT EXISTS claims (
    schedule_key TEXT PRIMARY KEY,     -- a scheduled game some process is playing
    claimed REAL NOT NULL,             -- when it was claimed (time.time())
    pid INTEGER NOT NULL,              -- the process that runs the tournament (not its workers)
    host TEXT NOT NULL                 -- and its machine: a pid means something only there
)
"""

RESULT_NAMES = {BLACK: "black", WHITE: "white", DRAW: "draw"}


class ArenaError(ValueError):
    """A problem with the arena database or what was asked of it (one clear line for the user)."""


class ArenaReadOnlyError(ArenaError):
    """The database (or its folder) may be read but not written by this user."""


@dataclass(frozen=True)
class Claim:
    """Who is playing a scheduled game, as the claims table says."""

    key: str
    claimed: float
    pid: int
    host: str

    def given_up(self, now: float) -> bool:
        """True when nobody is playing it any more: too old, or its process on this machine has ended."""
        if now - self.claimed > CLAIM_TIMEOUT_S:
            return True
        return self.host == socket.gethostname() and not process_alive(self.pid)


def this_process() -> tuple[int, str]:
    """(pid, host): who a claim made here belongs to."""
    return os.getpid(), socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine is running (a zombie, killed and not yet reaped, is not)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process on Windows: there claims end by their timeout
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): the signal said it exists
    return state not in ("Z", "X")


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _is_read_only(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith("SQLITE_READONLY") or "readonly" in str(error)


def _chunks(keys: list[str], size: int = 500):
    """Keys in pieces small enough for one statement's parameters."""
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


@dataclass(frozen=True)
class PlayerRecord:
    id: int
    key: str
    label: str
    kind: str
    spec: str
    rule: str | None
    size: int | None
    n_in_row: int | None
    step: int | None
    run: str | None


@dataclass(frozen=True)
class GameRow:
    id: int
    schedule_key: str | None
    rule: str
    size: int
    n_in_row: int
    black: str  # labels
    white: str
    opening: str
    moves: str
    result: str
    reason: str
    detail: str
    seconds: float
    played_at: float


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def label_setting(label: str) -> str:
    """The search setting of a checkpoint player's label: '800' from 'gomoku15@800' or 'gomoku15@800~1a2b3c4d'."""
    return label.rsplit("@", 1)[-1].split("~", 1)[0]


def _hash_suffixed(label: str, identity: str) -> str:
    """A label told apart from another file's by the start of its hash: 'gomoku15@800~1a2b3c4d'."""
    return f"{label}~{identity[:8]}"


def _checkpoint_facts(spec: PlayerSpec) -> dict:
    """Identity and facts of an ``az:`` player, read from the file's header (no weights are built)."""
    from azero.model.checkpoint import CheckpointError, read_info, resolve_checkpoint

    try:
        path = resolve_checkpoint(spec.path)
        if not path.is_file():
            raise ArenaError(f"no checkpoint at {path}")
        info = read_info(path)
    except CheckpointError as error:
        raise ArenaError(str(error)) from None
    sha = file_sha256(path)
    # The arena's identity of the player (never read back as a spec): the file's hash, not its path, and the
    # search spelled out as stored since the first arena databases, so old rows keep their keys.
    setting = f"sims={spec.simulations}" + (f":time={spec.seconds:g}" if spec.seconds is not None else "")
    # Games before VCT (issue 18) were stored without a search tag; that search is vct=0 and keeps their key
    # (its label says "-vcf" for new rows; old rows keep theirs).  The default play search keeps plain labels.
    vct = PLAY_VCT_ROOT_BUDGET if spec.vct is None else spec.vct
    setting += (f":vct={vct}" if vct > 0 else "") + (f":replyvct={spec.reply_vct}" if spec.reply_vct else "")
    setting += (f":leafvct={spec.leaf_vct}" if spec.leaf_vct else "") + (":defence" if spec.defence else "")
    suffix = "-vcf" if vct == 0 else ("" if vct == PLAY_VCT_ROOT_BUDGET else f"+vct{vct}")
    suffix += f"+replyvct{spec.reply_vct}" if spec.reply_vct else ""
    suffix += (f"+leafvct{spec.leaf_vct}" if spec.leaf_vct else "") + ("+defence" if spec.defence else "")
    # A training run's checkpoint (RUN/checkpoints/step-N.safetensors), not a shipped one (checkpoints/NAME.safetensors).
    in_run = path.parent.name == "checkpoints" and path.stem.startswith("step-")
    run = path.parent.parent.name if in_run else None
    stem = f"{run}/{path.stem}" if run else path.stem
    shown = (f"{spec.seconds:g}s" if spec.seconds is not None else str(spec.simulations)) + suffix
    return {"key": f"az:{sha}:{setting}", "label": f"{stem}@{shown}", "checkpoint_sha256": sha,
            "rule": info.rule, "size": info.size, "n_in_row": info.n_in_row, "step": info.step, "run": run}


def player_facts(spec: str | PlayerSpec, turn_ms: int = 1000) -> dict:
    """The row a spec would have in ``players`` (raises ArenaError for a bad spec or checkpoint).

    An outside engine's identity includes its time a move (``turn_ms``): the
    same engine at another time control is another player.
    """
    try:
        parsed = spec if isinstance(spec, PlayerSpec) else parse_spec(spec)
    except ValueError as error:
        raise ArenaError(str(error)) from None
    facts = {"kind": parsed.kind, "spec": parsed.text, "checkpoint_sha256": None, "rule": None, "size": None,
             "n_in_row": None, "step": None, "run": None}
    if parsed.kind == "az":
        facts.update(_checkpoint_facts(parsed))
    elif parsed.kind == "pbrain":
        facts.update(key=f"pbrain:{parsed.command}@{turn_ms}ms", label=f"pbrain:{parsed.command}@{turn_ms}ms")
    else:
        facts.update(key=parsed.text, label=parsed.text)
    return facts


class ArenaStore:
    """An open arena database (one connection; open one per process)."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._claims_table = False  # seen to exist (the first claim makes it; it is never dropped)
        self._refuse_what_is_not_a_database_file()
        if read_only:
            self._open_read_only()
            return
        if not self.path.exists():
            self._create()
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._open()
                return
            except ArenaError:
                self._close_quietly()
                raise
            except sqlite3.OperationalError as error:
                self._close_quietly()
                # An old database switching to WAL while another process opens it: that switch does not wait
                # on the busy timeout; whoever loses tries again.
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise self._unusable(error) from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as error:
                self._close_quietly()
                raise self._unusable(error) from None

    def _close_quietly(self) -> None:
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None

    def _refuse_what_is_not_a_database_file(self) -> None:
        if self.path.is_dir():
            raise ArenaError(f"{self.path} is a folder, not an arena database file")
        if self.path.is_file() and self.path.stat().st_size == 0:
            # Never one of ours (see _create); SQLite would quietly make a database of it.
            raise ArenaError(f"{self.path} is an empty file, not an arena database: delete it or give --db "
                             "another file")

    def _create(self) -> None:
        """Build a new database under a temporary name and link it into place whole.

        Another process opening the path meanwhile finds nothing (and builds
        its own: the first link wins, the others use it) or a complete arena
        database, never a half-made one; so an empty or foreign file at the
        path is never ours, and is refused.
        """
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise ArenaError(f"{self.path}: SQLite would not use WAL mode here (got {mode}); put the "
                                     "database on a local disk")
                db.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                db.execute("COMMIT")
            finally:
                db.close()  # the last connection: SQLite folds the WAL into the file and removes it
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass  # another process made it first: theirs is the database
            except OSError:  # a file system without hard links
                if not self.path.exists():
                    os.replace(temporary, self.path)
        except (OSError, sqlite3.Error) as error:
            if not os.access(_nearest_existing(self.path.parent), os.W_OK):
                raise ArenaReadOnlyError(f"cannot make an arena database at {self.path}: its folder is read-only "
                                         f"({error})") from None
            raise ArenaError(f"cannot make an arena database at {self.path}: {error}") from None
        finally:
            for leftover in ("", "-wal", "-shm", "-journal"):
                Path(f"{temporary}{leftover}").unlink(missing_ok=True)

    def _open(self) -> None:
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            self._check_arena_schema()  # reads only: another program's database is left as it is
        except sqlite3.OperationalError as error:
            if "unable to open" in str(error) and not os.access(self.path.parent, os.W_OK):
                raise ArenaReadOnlyError(f"{self.path} is read-only: its folder is, and SQLite writes through "
                                         f"{self.path.name}-wal and -shm files beside it") from None
            raise
        self._check_writable()
        mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ArenaError(f"{self.path}: SQLite would not use WAL mode here (got {mode}); put the database on a local disk")
        self.db.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable against a process crash, cheap
        self.db.execute("PRAGMA foreign_keys = ON")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)  # every table is there already; a later version's new ones are not

    def _check_arena_schema(self) -> None:
        """ArenaError unless the file is an arena database of this schema (nothing is written to find out)."""
        tables = sorted(row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        row = None
        if "meta" in tables:
            try:
                row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.OperationalError:
                pass  # a table named meta, but not ours
        if row is None:
            listed = ", ".join(tables)
            held = f"a SQLite database with the tables {listed[:80]}" if tables else "an empty SQLite database"
            raise ArenaError(f"{self.path} is not an arena database ({held}); give --db another file")
        if row[0] != str(SCHEMA_VERSION):
            raise ArenaError(f"{self.path} has arena schema {row[0]}; this azero reads schema {SCHEMA_VERSION}")

    def _check_writable(self) -> None:
        """ArenaReadOnlyError now if the file cannot be written: SQLite opens it read-only without a word."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("UPDATE meta SET value = value WHERE key = 'schema'")  # a write that changes nothing
        except sqlite3.OperationalError as error:
            if _is_read_only(error):
                raise ArenaReadOnlyError(f"{self.path} is read-only ({error}); it can be read, not written") from None
            raise
        finally:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")

    def _open_read_only(self) -> None:
        """Read a database without touching it (a shipped, committed file): no WAL files, no schema changes."""
        if not self.path.is_file():
            raise ArenaError(f"no arena database at {self.path}")
        try:
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True)
            self._check_arena_schema()
        except (ArenaError, sqlite3.DatabaseError) as error:
            self._close_quietly()
            if isinstance(error, ArenaError):
                raise
            raise self._unusable(error) from None

    def _unusable(self, error: sqlite3.Error) -> ArenaError:
        return ArenaError(f"{self.path} is not a usable arena database: {error}")

    def _write_error(self, error: sqlite3.Error) -> ArenaError:
        """A failed write as one line: read-only, disk full, locked too long..."""
        if _is_read_only(error):
            return ArenaReadOnlyError(f"{self.path} is read-only ({error}); it can be read, not written")
        return ArenaError(f"cannot write to {self.path}: {error}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _transaction(self):
        store = self

        class _Transaction:
            def __enter__(self):
                try:
                    store.db.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock upgrading later
                except sqlite3.OperationalError as error:
                    raise store._write_error(error) from None

            def __exit__(self, kind, value, traceback):
                try:
                    if kind is None:
                        store.db.execute("COMMIT")
                        return False
                except sqlite3.OperationalError as error:
                    value = error
                if store.db.in_transaction:  # SQLite may have rolled back already (a full disk, say)
                    store.db.execute("ROLLBACK")
                if isinstance(value, sqlite3.OperationalError):
                    raise store._write_error(value) from None
                return False

        return _Transaction()

    # -- players --------------------------------------------------------------
    def register(self, spec: str | PlayerSpec, turn_ms: int = 1000) -> PlayerRecord:
        """The player a spec names, added on first sight (safe when several processes register at once)."""
        facts = player_facts(spec, turn_ms)
        with self._transaction():
            row = self.db.execute("SELECT id FROM players WHERE key = ?", (facts["key"],)).fetchone()
            if row is None:
                label = facts["label"]
                taken = {r[0] for r in self.db.execute("SELECT label FROM players WHERE substr(label, 1, ?) = ?",
                                                       (len(label), label))}
                identity = facts["checkpoint_sha256"] or facts["key"]
                if label in taken:  # another file with the same name: tell them apart by hash
                    label = _hash_suffixed(label, identity)
                number = 2
                while label in taken:  # and the same file again under yet another setting
                    label = f"{_hash_suffixed(facts['label'], identity)}#{number}"
                    number += 1
                self.db.execute(
                    "INSERT INTO players (key, label, kind, spec, checkpoint_sha256, rule, size, n_in_row, step, run, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (facts["key"], label, facts["kind"], facts["spec"], facts["checkpoint_sha256"], facts["rule"],
                     facts["size"], facts["n_in_row"], facts["step"], facts["run"], time.time()))
        return self.player_by_key(facts["key"])

    def name_checkpoint(self, sha: str, stem: str) -> None:
        """Show every player of the checkpoint file ``sha`` as ``STEM@SETTING`` from now on.

        A label is given when a file is first seen, from its path then; a
        shipped network later moves (``checkpoints/NAME`` to
        ``checkpoints/previous/NAME-vK``) and a new file takes its name, so the
        ratings card names the files after where they are now.  Identity (the
        key) and every game stay as they were.
        """
        with self._transaction():
            rows = self.db.execute("SELECT id, label FROM players WHERE checkpoint_sha256 = ?", (sha,)).fetchall()
            for player_id, label in rows:
                wanted = f"{stem}@{label_setting(label)}"
                if wanted == label:
                    continue
                holder = self.db.execute("SELECT id, COALESCE(checkpoint_sha256, key) FROM players WHERE label = ?",
                                         (wanted,)).fetchone()
                if holder is not None:  # another file holds the name: move it aside under its own hash
                    aside = _hash_suffixed(wanted, holder[1])
                    if self.db.execute("SELECT 1 FROM players WHERE label = ?", (aside,)).fetchone():
                        continue
                    self.db.execute("UPDATE players SET label = ? WHERE id = ?", (aside, holder[0]))
                self.db.execute("UPDATE players SET label = ? WHERE id = ?", (wanted, player_id))

    def player_by_key(self, key: str) -> PlayerRecord:
        row = self.db.execute(f"SELECT {_PLAYER_COLUMNS} FROM players WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise ArenaError(f"no player {key!r} in {self.path}")
        return PlayerRecord(*row)

    def players(self) -> list[PlayerRecord]:
        return [PlayerRecord(*row) for row in self.db.execute(f"SELECT {_PLAYER_COLUMNS} FROM players ORDER BY id")]

    # -- openings -------------------------------------------------------------
    def openings(self, rule: str, size: int, n_in_row: int, stones: int, seed: int, count: int) -> list[list[int]]:
        """The first ``count`` openings of a seeded set, generated once and then read back (so resumes agree)."""
        from azero.search.openings import balanced_openings, openings_to_text

        query = ("SELECT moves FROM openings WHERE rule = ? AND size = ? AND n_in_row = ? AND stones = ? AND seed = ?"
                 " ORDER BY idx")
        key = (rule, size, n_in_row, stones, seed)
        stored = [row[0] for row in self.db.execute(query, key)]
        if len(stored) < count:
            # The stored ones keep their places (their games refer to them); new ones only extend the set.
            fresh = [text for text in (openings_to_text(m, size) for m in balanced_openings(size, rule, n_in_row,
                                                                                           count, stones, seed))
                     if text not in stored]
            with self._transaction():
                have = self.db.execute(f"SELECT COUNT(*) FROM ({query})", key).fetchone()[0]
                for idx, text in enumerate(fresh[:max(count - have, 0)], start=have):
                    self.db.execute("INSERT OR IGNORE INTO openings VALUES (?, ?, ?, ?, ?, ?, ?)", (*key, idx, text))
            stored = [row[0] for row in self.db.execute(query, key)]
        return [[coords.from_notation(t, size) for t in text.split()] for text in stored[:count]]

    # -- games ----------------------------------------------------------------
    def played_keys(self, keys: list[str]) -> set[str]:
        """Which of these schedule keys already have a stored game."""
        return set(self.endings(keys))

    def endings(self, keys: list[str]) -> dict[str, str]:
        """The stored games among these schedule keys: key -> how the game ended ('five', 'timeout', ...)."""
        found: dict[str, str] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT schedule_key, reason FROM games WHERE schedule_key IN ({marks})", chunk))
        return found

    # -- claims ---------------------------------------------------------------
    def claim(self, keys: list[str]) -> list[str]:
        """Claim these scheduled games for this process before playing them; returns the keys claimed, in order.

        A game already stored, or claimed by another process that is still
        at it (see :meth:`Claim.given_up`), is not claimed: that process
        plays it.  This process's own claims are renewed.
        """
        me, now = this_process(), time.time()
        with self._transaction():
            self._make_claims_table()
            stored = set(self.endings(keys))
            held = self._claim_rows(keys)
            free = [key for key in keys if key not in stored
                    and (key not in held or (held[key].pid, held[key].host) == me or held[key].given_up(now))]
            self.db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", [(key, now, *me) for key in free])
        return free

    def claims(self, keys: list[str]) -> dict[str, Claim]:
        """The claims on these keys, live or given up: key -> Claim."""
        return self._claim_rows(keys) if self._has_claims_table() else {}

    def _claim_rows(self, keys: list[str]) -> dict[str, Claim]:
        found = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT schedule_key, claimed, pid, host FROM claims WHERE schedule_key IN ({marks})"
            found.update((row[0], Claim(*row)) for row in self.db.execute(query, chunk))
        return found

    def release_claims(self, keys: list[str]) -> None:
        """Give back this process's claims on these keys (games it will not play after all)."""
        if not keys or not self._has_claims_table():
            return
        pid, host = this_process()
        with self._transaction():
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM claims WHERE pid = ? AND host = ? AND schedule_key IN ({marks})",
                                [pid, host, *chunk])

    def _make_claims_table(self) -> None:
        self.db.execute(_CLAIMS_TABLE)  # not remembered: the transaction making it may yet be rolled back

    def _has_claims_table(self) -> bool:
        if not self._claims_table:
            self._claims_table = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claims'").fetchone() is not None
        return self._claims_table

    def record_game(self, *, black: int, white: int, rule: str, size: int, n_in_row: int, opening: list[int],
                    moves: list[int], winner: int, reason: str, detail: str = "", seconds: float = 0.0,
                    schedule_key: str | None = None) -> bool:
        """Store one finished game (player ids); False if its schedule key was already stored."""
        if winner not in RESULT_NAMES:
            raise ArenaError(f"a stored game needs a result (black, white or draw), got {winner!r}")
        if black == white:
            raise ArenaError("a player cannot play itself: the game would say nothing about its strength")
        with self._transaction():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO games (schedule_key, rule, size, n_in_row, black, white, opening, moves, result,"
                " reason, detail, seconds, played_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (schedule_key, rule, size, n_in_row, black, white,
                 " ".join(coords.to_notation(m, size) for m in opening),
                 " ".join(coords.to_notation(m, size) for m in moves),
                 RESULT_NAMES[winner], reason, detail[:500], float(seconds), time.time()))
            if schedule_key is not None and self._has_claims_table():
                self.db.execute("DELETE FROM claims WHERE schedule_key = ?", (schedule_key,))  # played: nobody's now
        return cursor.rowcount == 1

    def record_played(self, black_spec: str, white_spec: str, game, reason: str | None = None,
                      winner: int | None = None, opening_moves: int = 0, seconds: float = 0.0) -> bool:
        """Store a game played outside a tournament (the window: ``human:NAME`` against a checkpoint).

        ``game`` is a finished :class:`games.gomoku.Gomoku`; a resigned or
        forfeited game is still going on the board, so it needs ``winner``
        and ``reason`` ('resign', ...).
        """
        from games.constants import ONGOING

        winner = game.winner if winner is None else winner
        if winner == ONGOING:
            raise ArenaError("only finished games are rated: give the winner of a resigned game")
        if reason is None:
            reason = "full" if winner == DRAW else "five"
        black, white = self.register(black_spec), self.register(white_spec)
        for player in (black, white):
            if player.kind == "az" and (player.rule, player.size, player.n_in_row) != (game.rule, game.size, game.n_in_row):
                raise ArenaError(f"{player.label} was trained for {player.rule} {player.size}x{player.size}, "
                                 f"not {game.rule} {game.size}x{game.size}")
        return self.record_game(black=black.id, white=white.id, rule=game.rule, size=game.size, n_in_row=game.n_in_row,
                                opening=game.moves[:opening_moves], moves=game.moves, winner=winner, reason=reason,
                                seconds=seconds)

    def games(self, rule: str | None = None, size: int | None = None, n_in_row: int | None = None) -> list[GameRow]:
        where, args = _game_filter(rule, size, n_in_row)
        rows = self.db.execute(
            "SELECT g.id, g.schedule_key, g.rule, g.size, g.n_in_row, b.label, w.label, g.opening, g.moves, g.result,"
            " g.reason, g.detail, g.seconds, g.played_at FROM games g JOIN players b ON b.id = g.black"
            f" JOIN players w ON w.id = g.white {where} ORDER BY g.id", args)
        return [GameRow(*row) for row in rows]

    def game_kinds(self) -> list[tuple[str, int, int, int]]:
        """(rule, size, n_in_row, games) for every game kind in the database."""
        return [tuple(r) for r in self.db.execute(
            "SELECT rule, size, n_in_row, COUNT(*) FROM games GROUP BY rule, size, n_in_row ORDER BY rule, size, n_in_row")]

    # -- ratings ----------------------------------------------------------------
    def save_ratings(self, rule: str, size: int, n_in_row: int, anchor: str, anchor_elo: float, ratings) -> None:
        """Keep a fit (the table it printed) with its time; ids are looked up by label."""
        ids = {p.label: p.id for p in self.players()}
        now = time.time()
        with self._transaction():
            for r in ratings:
                self.db.execute(
                    "INSERT INTO ratings (fitted_at, rule, size, n_in_row, anchor, anchor_elo, player, elo, low, high,"
                    " games, score, wins, draws, losses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (now, rule, size, n_in_row, anchor, anchor_elo, ids[r.player], r.elo, r.low, r.high, r.games,
                     r.score, r.wins, r.draws, r.losses))


_PLAYER_COLUMNS = "id, key, label, kind, spec, rule, size, n_in_row, step, run"


def _game_filter(rule, size, n_in_row) -> tuple[str, list]:
    clauses, args = [], []
    for column, value in (("g.rule", rule), ("g.size", size), ("g.n_in_row", n_in_row)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
