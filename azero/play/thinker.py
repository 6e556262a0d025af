"""The AI's side of the window: one thread that searches moves, hints, live analysis and reviews.

The window (:mod:`azero.play.window`) asks and polls; this thread owns the
players (so a network is only ever called here) and stops a search between
two of its steps the moment its answer stops mattering.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable

from azero.play.review import GameReview, review_game
from azero.players.protocol import AnalysingPlayer, Analysis, Player
from games.gomoku import Gomoku

# Live analysis searches the person's position until the root has this many visits, then rests (a laptop's
# fan should not run while a person thinks); the player's tree is made this large for it.
LIVE_MAX_VISITS = 4000
REVIEW_MAX_VISITS = 400  # visits a position when the window reviews a finished game (at most the level's)


@dataclass
class Job:
    """One piece of work for the thinker: a position, the AI (spec) to ask, and what for."""

    request: int
    generation: int
    # "move" (the AI's turn), "hint", "judge" (teaching: the position before a move), "live", "review", and
    # "warm" (load the player and search once, so its first move pays no load or compile time)
    kind: str
    game: Gomoku
    spec: str
    visits: int | None = None  # root visits instead of the player's simulations


@dataclass
class Thought:
    """An answer from the thinker: the move and what the AI thinks, or a review; ``final`` False is progress."""

    request: int
    kind: str
    move: int
    analysis: Analysis | None  # what a network's search says, else None
    final: bool = True
    review: GameReview | None = None
    done: tuple[int, int] | None = None  # a review's progress: positions searched, of how many
    moves: int = -1  # live analysis: the number of moves in the position it is about


class Thinker:
    """One background thread that does the AI's work, one job at a time.

    The window asks (:meth:`ask`) for moves, hints, teaching judgements and
    reviews, and may keep one standing :meth:`live` analysis, searched
    whenever nothing else is asked; it polls for answers (:meth:`poll`).
    :meth:`forget` (the position changed: a move, undo, new game) drops
    every job and answer of the old position and stops the running search
    between two of its steps, so the AI's turn never waits for an analysis.
    Players are made from their specs on this thread (loading a network takes
    a moment), kept for when the same spec is asked again (so a hint, the
    live analysis and the AI's move share one tree), and only called here.
    :meth:`close` stops the search and waits for the thread: a thread still
    inside torch when the interpreter exits aborts the process.
    """

    def __init__(self, make_player: Callable[[str], Player]):
        self.make_player = make_player
        self.players: dict[str, Player] = {}
        self.answers: queue.Queue = queue.Queue()
        self.generation = 0
        self.error: str | None = None
        self._cv = threading.Condition()
        self._jobs: deque[Job] = deque()
        self._live: Job | None = None
        self._live_done: tuple | None = None  # (spec, moves) of the position live analysis finished
        self._working: Job | None = None
        self._requests = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="azero-thinker", daemon=True)
        self._thread.start()

    # -- the window's side ----------------------------------------------------------
    def ask(self, game, spec: str, kind: str = "move", visits: int | None = None) -> int:
        with self._cv:
            self._requests += 1
            self._jobs.append(Job(self._requests, self.generation, kind, game.copy(), spec, visits))
            self._cv.notify()
            return self._requests

    def live(self, game, spec: str) -> None:
        """Keep analysing ``game`` whenever idle (until :data:`LIVE_MAX_VISITS`); a no-op if already asked."""
        with self._cv:
            key = (spec, tuple(game.moves))
            if key == self._live_done or (self._live is not None and (self._live.spec, tuple(self._live.game.moves)) == key):
                return  # already searched to its visits, or being searched
            self._requests += 1
            self._live = Job(self._requests, self.generation, "live", game.copy(), spec, LIVE_MAX_VISITS)
            self._cv.notify()

    def stop_live(self) -> None:
        with self._cv:
            self._live = None

    def forget(self) -> None:
        """Whatever is asked or searched now no longer matters (a move, undo, new game)."""
        with self._cv:
            self.generation += 1
            self._jobs.clear()
            self._live = None
            self._live_done = None

    @property
    def busy(self) -> bool:
        """Is a move, hint, judgement or review asked and not answered yet? (Live analysis does not count.)"""
        working = self._working
        return bool(self._jobs) or (working is not None and working.kind != "live"
                                    and working.generation == self.generation)

    @property
    def analysing(self) -> bool:
        working = self._working
        return working is not None and working.kind == "live" and working is self._live

    def poll(self) -> list[Thought]:
        """The answers for the current position, oldest first (answers about older positions are dropped)."""
        out = []
        try:
            while True:
                generation, thought = self.answers.get_nowait()
                if generation == self.generation:
                    out.append(thought)
        except queue.Empty:
            return out

    def close(self, timeout: float = 30.0) -> None:
        with self._cv:
            self._closing = True
            self._jobs.clear()
            self._live = None
            self._cv.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread's side -----------------------------------------------------------
    def _next(self) -> Job | None:
        with self._cv:
            while True:
                if self._closing:
                    return None
                if self._jobs:
                    job = self._jobs.popleft()
                elif self._live is not None:
                    job = self._live
                else:
                    self._cv.wait()
                    continue
                self._working = job
                return job

    def _stale(self, job: Job) -> bool:
        """Should ``job`` stop now? The window closes, the position changed, or (live) other work is waiting."""
        return (self._closing or job.generation != self.generation
                or (job.kind == "live" and (bool(self._jobs) or self._live is not job)))

    def _run(self) -> None:
        try:
            while (job := self._next()) is not None:
                try:
                    self._work(job)
                except Exception as error:  # shown in the status line; the window stays usable
                    if self._stale(job):
                        continue  # stopped before it had an answer (its root never searched): nobody waits for it
                    self.error = f"the AI failed: {type(error).__name__}: {error}"
                    self._answer(job, Thought(job.request, job.kind, -1, None))
                    with self._cv:
                        if self._live is job:
                            self._live = None
                finally:
                    self._working = None
        finally:
            for player in self.players.values():
                player.close()

    def _answer(self, job: Job, thought: Thought) -> None:
        self.answers.put((job.generation, thought))

    def _player(self, spec: str) -> Player:
        if spec not in self.players:
            player = self.make_player(spec)
            if isinstance(player, AnalysingPlayer):  # room for live analysis in the tree the AI's move reuses
                player.tree_simulations = max(player.tree_simulations, LIVE_MAX_VISITS)
            self.players[spec] = player
        return self.players[spec]

    def _work(self, job: Job) -> None:
        player = self._player(job.spec)
        if self._stale(job):
            return
        if isinstance(player, AnalysingPlayer):
            player.should_stop = lambda: self._stale(job)
        if job.kind == "review":
            if not isinstance(player, AnalysingPlayer):
                raise ValueError("a review needs a network")
            review = review_game(player, job.game, job.visits, should_stop=lambda: self._stale(job),
                                 progress=lambda done, total: self._answer(
                                     job, Thought(job.request, "review", -1, None, final=False, done=(done, total))))
            if review is not None:
                self._answer(job, Thought(job.request, "review", -1, None, review=review))
            return
        if job.kind == "warm":
            if isinstance(player, AnalysingPlayer):
                player.analyse(job.game, visits=1)
            self._answer(job, Thought(job.request, "warm", -1, None))
            return
        if not isinstance(player, AnalysingPlayer):
            if job.kind in ("move", "hint"):
                self._answer(job, Thought(job.request, job.kind, int(player.choose_moves([job.game])[0]), None))
            return
        # Every search shows its progress as live analysis (the window shows it when live analysis is on).
        at = len(job.game.moves)
        analysis = player.analyse(job.game, visits=job.visits, progress=lambda now: self._answer(
            job, Thought(job.request, "live", now.move, now, final=False, moves=at)))
        if job.kind == "live":
            with self._cv:
                if self._live is job and not self._stale(job):
                    self._live = None  # reached its visits: rest until the position changes
                    self._live_done = (job.spec, tuple(job.game.moves))
            self._answer(job, Thought(job.request, "live", analysis.move, analysis, moves=at))
        elif not self._stale(job):
            self._answer(job, Thought(job.request, job.kind, analysis.move, analysis))
