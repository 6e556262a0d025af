"""The arena's SQLite database: players, games (with their moves), openings and fitted ratings.

One file holds everything, in WAL mode so several worker processes write
games at once while readers (``azero arena ratings``) go on reading.  A
scheduled game has a unique ``schedule_key``; it is inserted with ``INSERT
OR IGNORE`` in its own transaction the moment it ends, so an interrupted
tournament resumes by playing only the keys that are missing, and no game
is ever counted twice.

A player's identity (``players.key``) is what makes its games comparable:
for a checkpoint it is the SHA-256 of the file plus its search setting, so
moving or renaming the file keeps its record, and a different file saved at
the same path is a different player.  ``label`` is the short name people
see in tables and plots.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from games import coords
from games.constants import BLACK, DRAW, WHITE

from .players import PLAY_VCT_ROOT_BUDGET, PlayerSpec, parse_spec

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 120_000  # writers wait this long for the lock instead of failing

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

RESULT_NAMES = {BLACK: "black", WHITE: "white", DRAW: "draw"}


class ArenaError(ValueError):
    """A problem with the arena database or what was asked of it (one clear line for the user)."""


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
    from .checkpoint import CheckpointError, read_info, resolve_checkpoint

    try:
        path = resolve_checkpoint(spec.path)
        if not path.is_file():
            raise ArenaError(f"no checkpoint at {path}")
        info = read_info(path)
    except CheckpointError as error:
        raise ArenaError(str(error)) from None
    sha = file_sha256(path)
    setting = f"sims={spec.simulations}" + (f":time={spec.seconds:g}" if spec.seconds is not None else "")
    # Games before VCT (issue 18) were stored without a search tag; that search is vct=0 and keeps their key
    # (its label says "-vcf" for new rows; old rows keep theirs).  The default play search keeps plain labels.
    vct = PLAY_VCT_ROOT_BUDGET if spec.vct is None else spec.vct
    setting += (f":vct={vct}" if vct > 0 else "") + (":defence" if spec.defence else "")
    suffix = "-vcf" if vct == 0 else ("" if vct == PLAY_VCT_ROOT_BUDGET else f"+vct{vct}")
    suffix += "+defence" if spec.defence else ""
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
        if read_only:
            self._open_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._open()
                return
            except sqlite3.OperationalError as error:
                # Several processes creating one new database race for the switch to WAL, which does not
                # wait on the busy timeout; whoever loses tries again.
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise ArenaError(f"{self.path} is not a usable arena database: {error}") from None
                if getattr(self, "db", None) is not None:
                    self.db.close()
                time.sleep(0.05)
            except sqlite3.DatabaseError as error:
                raise ArenaError(f"{self.path} is not a usable arena database: {error}") from None

    def _open(self) -> None:
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ArenaError(f"{self.path}: SQLite would not use WAL mode here (got {mode}); put the database on a local disk")
        self.db.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable against a process crash, cheap
        self.db.execute("PRAGMA foreign_keys = ON")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                raise ArenaError(f"{self.path} has arena schema {row[0]}; this azero reads schema {SCHEMA_VERSION}")

    def _open_read_only(self) -> None:
        """Read a database without touching it (a shipped, committed file): no WAL files, no schema changes."""
        if not self.path.is_file():
            raise ArenaError(f"no arena database at {self.path}")
        try:
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as error:
            raise ArenaError(f"{self.path} is not a usable arena database: {error}") from None
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise ArenaError(f"{self.path} has arena schema {row and row[0]}; this azero reads schema {SCHEMA_VERSION}")

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
                store.db.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock upgrading later

            def __exit__(self, kind, value, traceback):
                store.db.execute("COMMIT" if kind is None else "ROLLBACK")

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
        from .openings import balanced_openings, openings_to_text

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
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT schedule_key, reason FROM games WHERE schedule_key IN ({marks})", chunk))
        return found

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
