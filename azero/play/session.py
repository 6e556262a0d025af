"""A game between a person and the AI (or two AIs), without any drawing: what the window's buttons do.

The window (:mod:`azero.play.window`) turns clicks and keys into these calls and
draws the result; tests call them directly.  Finished games with a person
in them are stored in the arena database as ``human:NAME`` against the AI's
spec, so ``azero arena ratings`` rates people too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from games import coords
from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import Gomoku

COLOUR_NAMES = {BLACK: "black", WHITE: "white"}


def other(colour: int) -> int:
    return WHITE if colour == BLACK else BLACK


@dataclass
class PlaySession:
    """The game, who plays which colour, and what happened.

    ``human`` is the person's colour, or None when two AIs play (watch mode).
    ``black_win_rates[i]`` is the AI's estimate of black's expected score
    after the first ``i`` moves (None where nobody searched that position).
    """

    size: int = 15
    rule: str = "freestyle"
    human: int | None = BLACK
    human_name: str = "you"
    ai_spec: str = "heuristic"  # what the arena calls the AI (its player spec)
    db_path: str | None = None
    game: Gomoku = field(init=False)
    black_win_rates: list = field(init=False)
    result: tuple[int, str] | None = field(init=False, default=None)  # (winner, reason) once over
    recorded: bool = field(init=False, default=False)
    unrated: str | None = field(init=False, default=None)  # why this game will not be rated, if it will not
    unrecorded: str | None = field(init=False, default=None)  # why the database did not take the finished game
    started: float = field(init=False, default=0.0)

    def __post_init__(self):
        self.new_game()

    # -- state ------------------------------------------------------------------
    def new_game(self, size: int | None = None, rule: str | None = None) -> None:
        self.size = size or self.size
        self.rule = rule or self.rule
        self.game = Gomoku(self.size, self.rule)
        self.black_win_rates = [None]
        self.result = None
        self.recorded = False
        self.unrated = None
        self.unrecorded = None
        self.started = time.time()

    @property
    def over(self) -> bool:
        return self.result is not None

    @property
    def ai_to_move(self) -> bool:
        return not self.over and self.game.to_move != self.human

    @property
    def human_to_move(self) -> bool:
        return not self.over and self.human is not None and self.game.to_move == self.human

    # -- moves --------------------------------------------------------------------
    def refusal(self, move: int) -> str | None:
        """Why the person may not play ``move`` now (one line for the status bar), or None if they may."""
        from games.renju import forbidden_reason

        if self.over:
            return "the game is over: press New for another"
        if not self.human_to_move:
            return "wait: it is the AI's move"
        if self.game.board[move] != 0:
            return f"{coords.to_notation(move, self.size)} is taken"
        if self.game.rule == "renju" and self.game.to_move == BLACK:
            reason = forbidden_reason(self.game.board, self.size, move)
            if reason is not None:
                return f"{coords.to_notation(move, self.size)} is forbidden to black in renju: a {reason}"
        return None

    def play(self, move: int, black_win_rate: float | None = None) -> None:
        """Play a move (the person's, checked with :meth:`refusal` first, or the AI's)."""
        self.game.play(move)
        self.black_win_rates.append(black_win_rate)
        if self.game.winner != ONGOING:
            self._finish(self.game.winner, "full" if self.game.winner == DRAW else "five")

    def note_analysis(self, black_win_rate: float) -> None:
        """The AI's estimate for the current position (from a hint or its own search)."""
        self.black_win_rates[-1] = black_win_rate

    def undo(self) -> int:
        """Take back your last move and the AI's reply to it; returns how many moves were taken back."""
        taken = 0
        target = self.human if self.human is not None else self.game.to_move
        while self.game.moves and (taken == 0 or self.game.to_move != target):
            self.game.undo()
            self.black_win_rates.pop()
            taken += 1
        if taken:
            self.result = None
            self.recorded = False  # a game taken back and finished again is another game
            self.unrecorded = None
        return taken

    def swap(self) -> None:
        """Change sides: you take the colour the AI had (the AI then plays for your old colour)."""
        if self.human is not None:
            self.human = other(self.human)
            if self.game.moves and not self.over:
                self.unrated = "you swapped sides during it"

    def resign(self) -> None:
        if not self.over and self.human is not None:
            self._finish(other(self.human), "resign")

    def _finish(self, winner: int, reason: str) -> None:
        self.result = (winner, reason)
        self._record()

    def _record(self) -> None:
        """Store the finished game in the arena database, once (people's games only)."""
        if (self.recorded or self.unrated or self.db_path is None or self.human is None
                or self.result is None):
            return
        import sqlite3

        from azero.arena.store import ArenaError, ArenaStore
        from azero.players.spec import PlayerSpec

        person = PlayerSpec("human", name=self.human_name).text
        black, white = (person, self.ai_spec) if self.human == BLACK else (self.ai_spec, person)
        winner, reason = self.result
        try:
            with ArenaStore(self.db_path) as store:
                store.record_played(black, white, self.game, reason=reason, winner=winner,
                                    seconds=time.time() - self.started)
        except (ArenaError, sqlite3.Error, OSError) as error:
            # The window goes on: the game is only left unrated, and the result line says why.
            self.unrecorded = str(error).replace(str(Path(self.db_path)), Path(self.db_path).name)
            return
        self.recorded = True

    def result_text(self) -> str:
        if self.result is None:
            return ""
        winner, reason = self.result
        if winner == DRAW:
            return "a draw: the board is full"
        who = f"{COLOUR_NAMES[winner]} wins"
        if self.human is not None:
            who = "you win" if winner == self.human else "the AI wins"
        text = f"{who}" + (" (resignation)" if reason == "resign" else f" after {len(self.game.moves)} moves")
        if self.unrecorded:
            return f"{text}; not recorded: {self.unrecorded}"
        return text + (f"; not rated: {self.unrated}" if self.unrated and self.human is not None else "")

    # -- records --------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        from games.records import GameRecord, save_record

        names = {BLACK: self.ai_spec, WHITE: self.ai_spec}
        if self.human is not None:
            names[self.human] = self.human_name
        save_record(GameRecord.from_game(self.game, black=names[BLACK], white=names[WHITE]), path)
        return Path(path)

    def resume(self, game: Gomoku) -> None:
        """Continue from a loaded game (its size and rules become the session's); it is not rated."""
        self.size, self.rule = game.size, game.rule
        self.game = game
        self.black_win_rates = [None] * (len(game.moves) + 1)
        self.result = None if game.winner == ONGOING else (game.winner, "full" if game.winner == DRAW else "five")
        self.unrated = "it was loaded, not played here from the start"
        self.started = time.time()
