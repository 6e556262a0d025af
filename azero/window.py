"""The pygame window of ``azero play``: a person against the AI, or two AIs, with analysis.

Events go to a :class:`~azero.play_session.PlaySession` (the game and what
the buttons do) and searches run on a :class:`Thinker` thread, so the
window never freezes; it draws with :mod:`azero.board_view`.  Tests drive
it headless (``SDL_VIDEODRIVER=dummy``) by posting events and calling
:meth:`Window.tick`.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

from games import coords
from games.constants import BLACK

from .board_view import BoardGeometry, Overlay, draw_board, draw_win_rate_bar, draw_win_rate_graph
from .play_choices import SIDE_NAMES, Choices
from .play_session import COLOUR_NAMES, PlaySession

PANEL = 300
BOARD_PIXELS = 720
BACKGROUND = (238, 232, 220)
TEXT = (30, 30, 30)
BUTTON = (214, 204, 186)
BUTTON_ON = (170, 200, 235)


@dataclass
class Thought:
    """A finished search: for which request, the move, and what the AI thinks of the position."""

    request: int
    move: int
    analysis: object | None  # an azero.players.Analysis for a network, else None
    for_hint: bool


class Thinker:
    """One background thread that searches one position at a time.

    The window asks (:meth:`ask`) with the spec of the AI that is to move and
    polls (:meth:`poll`); an answer to an old request (made before an undo or
    a new game) is dropped.  Players are made from their specs on this thread
    (loading a network takes a moment, and the window must not freeze), kept
    for when the same spec is asked again, and only ever called here.
    """

    def __init__(self, make_player: Callable[[str], object]):
        self.make_player = make_player
        self.players: dict[str, object] = {}
        self.requests: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        self.current = 0
        self.busy = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="azero-thinker", daemon=True)
        self._thread.start()

    def ask(self, game, spec: str, for_hint: bool = False) -> int:
        self.current += 1
        self.busy = True
        self.requests.put((self.current, game.copy(), spec, for_hint))
        return self.current

    def forget(self) -> None:
        """Whatever is being searched now no longer matters (undo, new game)."""
        self.current += 1
        self.busy = False

    def poll(self) -> Thought | None:
        try:
            while True:
                thought = self.answers.get_nowait()
                if thought.request == self.current:
                    self.busy = False
                    return thought
        except queue.Empty:
            return None

    def close(self) -> None:
        self.requests.put(None)

    def _run(self) -> None:
        while True:
            item = self.requests.get()
            if item is None:
                break
            request, game, spec, for_hint = item
            if request != self.current:
                continue  # superseded before it started
            try:
                if spec not in self.players:
                    self.players[spec] = self.make_player(spec)
                player = self.players[spec]
                if hasattr(player, "analyse"):
                    analysis = player.analyse(game)
                    self.answers.put(Thought(request, analysis.move, analysis, for_hint))
                else:
                    self.answers.put(Thought(request, int(player.choose_moves([game])[0]), None, for_hint))
            except Exception as error:  # shown in the status line; the window stays usable
                self.error = f"the AI failed: {type(error).__name__}: {error}"
                self.answers.put(Thought(request, -1, None, for_hint))
        for player in self.players.values():
            close = getattr(player, "close", None)
            if close is not None:
                close()


SELECTORS = [("game", "Game  G"), ("side", "You play  C"), ("strength", "Strength  + -")]
BUTTONS = [("new", "New game  N"), ("undo", "Undo  U"), ("hint", "Hint  H"), ("swap", "Swap sides  S"),
           ("resign", "Resign  R"), ("numbers", "Move numbers  M"), ("heat", "Policy map  P"),
           ("line", "Expected line  V"), ("save", "Save game  Ctrl+S"), ("load", "Load last save  L")]
KEYS = {"n": "new", "u": "undo", "backspace": "undo", "h": "hint", "s": "swap", "r": "resign", "m": "numbers",
        "p": "heat", "v": "line", "l": "load", "g": "game", "c": "side", "=": "strength", "+": "strength",
        "[+]": "strength", "-": "weaker", "[-]": "weaker"}
SAVE_FORMATS = ("sgf", "psq")


class Window:
    """The window: one session, one thinker, the person's choices, a board and a panel of buttons."""

    def __init__(self, session: PlaySession, thinker: Thinker, choices: Choices, save_dir: str | Path = "runs/saved-games",
                 save_format: str = "sgf", title: str = "azero"):
        import pygame

        if save_format not in SAVE_FORMATS:
            raise ValueError(f"save format must be one of {', '.join(SAVE_FORMATS)}, got {save_format!r}")
        pygame.display.init()
        pygame.font.init()
        self.pygame = pygame
        self.session = session
        self.thinker = thinker
        self.choices = choices
        self.save_dir = Path(save_dir)
        self.save_format = save_format
        pygame.display.set_caption(title)
        self.screen = None
        self._fit_board()
        self.font = pygame.font.Font(None, 24)
        self.small = pygame.font.Font(None, 20)
        self.overlay = Overlay()
        self.show_heat = False
        self.show_line = False
        self.analysis = None  # the newest search's Analysis ...
        self.analysis_at = -1  # ... and the number of moves on the board it was made for
        self.status = "your move" if session.human_to_move else ""
        self.waiting_for: int | None = None  # the request whose answer is the AI's move
        self.hint_request: int | None = None
        self.running = True
        self.buttons: dict[str, tuple] = {}

    def _fit_board(self) -> None:
        self.geometry = BoardGeometry.fit(self.session.size, BOARD_PIXELS)
        size = (self.geometry.pixels + PANEL, max(self.geometry.pixels, 720))
        if self.screen is None or self.screen.get_size() != size:
            self.screen = self.pygame.display.set_mode(size)

    @property
    def ai_name(self) -> str:
        return self.choices.current.label

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> None:
        clock = self.pygame.time.Clock()
        try:
            while self.running:
                self.tick()
                clock.tick(30)
        except KeyboardInterrupt:  # Ctrl-C in the terminal closes the window like its close button
            pass
        finally:
            self.close()

    def tick(self) -> None:
        """One frame: events, the thinker's answers, the AI's turn, drawing."""
        for event in self.pygame.event.get():
            self.handle(event)
        self._collect_thoughts()
        self._start_ai_turn()
        self.draw()

    def close(self) -> None:
        self.thinker.close()
        self.pygame.display.quit()

    # -- events -------------------------------------------------------------------------
    def handle(self, event) -> None:
        pygame = self.pygame
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for name, rect in self.buttons.items():
                if rect.collidepoint(event.pos):
                    self.command(name)
                    return
            move = self.geometry.point_at(*event.pos)
            if move is not None:
                self.click(move)
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_s and event.mod & pygame.KMOD_CTRL:
                self.command("save")
            elif event.key == pygame.K_ESCAPE:
                self.running = False
            else:
                name = KEYS.get(pygame.key.name(event.key))
                if name:
                    self.command(name)

    def click(self, move: int) -> None:
        refusal = self.session.refusal(move)
        if refusal is not None:
            self.status = refusal
            return
        self.session.play(move)
        self._position_changed()
        self.status = self.session.result_text() if self.session.over else ""

    def command(self, name: str) -> None:
        s = self.session
        if name == "new":
            self.new_game()
        elif name in ("game", "side"):
            if name == "game" and self.choices.white_base is not None:
                self.status = "the game is fixed: two AIs were chosen for it"
                return
            if name == "game":
                self.choices.cycle_variant()
            else:
                self.choices.cycle_side()
            chosen = f"{self.choices.selected.title}, you play {SIDE_NAMES[self.choices.side]}"
            self.status = (f"next game: {chosen} (press New game)" if self.choices.pending
                           else f"{chosen}: as now")
        elif name in ("strength", "weaker"):
            if not self.choices.current.is_network:
                self.status = f"{self.ai_name} has one strength"
                return
            self.choices.cycle_level(1 if name == "strength" else -1)
            if s.game.moves and not s.over and s.human is not None:
                s.unrated = "the strength changed during the game"
            s.ai_spec = self.choices.opponent_spec()
            self.status = f"strength: {self.choices.strength_text()} (from the AI's next move)"
        elif name == "undo":
            taken = s.undo()
            self._position_changed()
            self.status = f"took back {taken} move{'s' if taken != 1 else ''}" if taken else "nothing to undo"
        elif name == "hint":
            if s.human_to_move and self.hint_request is None:
                self.hint_request = self.thinker.ask(s.game, self.choices.spec_for(s.game.to_move), for_hint=True)
                self.status = "thinking about a hint ..."
        elif name == "swap":
            s.swap()
            self.choices.swap(s.human)
            self._position_changed()
            self.status = f"you play {COLOUR_NAMES[s.human]} now" if s.human else ""
        elif name == "resign":
            s.resign()
            self.status = s.result_text()
        elif name == "numbers":
            self.overlay.numbers = not self.overlay.numbers
        elif name == "heat":
            self.show_heat = not self.show_heat
        elif name == "line":
            self.show_line = not self.show_line
        elif name == "save":
            self.save_dir.mkdir(parents=True, exist_ok=True)
            path = s.save(self.save_dir / time.strftime(f"azero-%Y%m%d-%H%M%S.{self.save_format}"))
            self.status = f"saved {path}"
        elif name == "load":
            saves = [p for fmt in SAVE_FORMATS for p in self.save_dir.glob(f"*.{fmt}")]
            if not saves:
                self.status = f"no saved games in {self.save_dir}/"
                return
            self.load(max(saves, key=lambda p: p.stat().st_mtime))

    def load(self, path: Path) -> bool:
        """Continue a saved game, with the AI for its rules and size (False, and why in the status, if none)."""
        from games.records import load_record

        try:
            # PSQ carries no rule: it is read with the rules of the game on the board.
            game = load_record(path, rule=self.choices.current.rule).to_game()
        except (OSError, ValueError) as error:
            self.status = f"cannot load {path.name}: {error}"
            return False
        index = self.choices.find(game.rule, game.size)
        if index is None:
            self.status = f"cannot load {path.name}: no AI here plays {game.rule} {game.size}x{game.size}"
            return False
        self.choices.side = self.session.human  # a pending change of side waits for a new game, not a load
        self.choices.start(index)
        self.session.ai_spec = self.choices.opponent_spec()
        self.session.resume(game)
        self._fit_board()
        self._position_changed()
        self.status = f"loaded {path}"
        return True

    def new_game(self) -> None:
        """Start again with what is selected (the game and side may have changed since the last one)."""
        variant = self.choices.start()
        s = self.session
        s.human = self.choices.side
        s.ai_spec = self.choices.opponent_spec()
        s.new_game(size=variant.size, rule=variant.rule)
        self._fit_board()
        self._position_changed()
        self.analysis, self.analysis_at = None, -1
        self.pygame.display.set_caption(f"azero: {self.ai_name}")
        self.status = f"new game, {variant.title}: " + (
            "your move" if s.human_to_move else "the AI begins" if s.human is not None else "watch")

    def _position_changed(self) -> None:
        """Whatever was being searched or shown belongs to another position now."""
        self.thinker.forget()
        self.waiting_for = None
        self.hint_request = None
        self.overlay.hint = None

    # -- the AI ---------------------------------------------------------------------------
    def _start_ai_turn(self) -> None:
        s = self.session
        if s.ai_to_move and self.waiting_for is None and not self.thinker.busy:
            self.waiting_for = self.thinker.ask(s.game, self.choices.spec_for(s.game.to_move))
            self.status = f"{self.ai_name} is thinking ..."

    def _collect_thoughts(self) -> None:
        thought = self.thinker.poll()
        if thought is None:
            return
        s = self.session
        if self.thinker.error:
            self.status, self.thinker.error = self.thinker.error, None
            self.waiting_for = self.hint_request = None
            return
        black_rate = None
        if thought.analysis is not None:
            self.analysis, self.analysis_at = thought.analysis, len(s.game.moves)
            rate = thought.analysis.win_rate
            black_rate = rate if s.game.to_move == BLACK else 1.0 - rate
            s.note_analysis(black_rate)
        if thought.for_hint:
            self.overlay.hint = thought.move
            self.hint_request = None
            self.status = f"hint: {coords.to_notation(thought.move, s.size)}"
        elif thought.request == self.waiting_for and s.ai_to_move:
            self.waiting_for = None
            s.play(thought.move, black_win_rate=black_rate)  # its best line keeps the value it searched
            self.status = s.result_text() if s.over else (
                f"{self.ai_name} played {coords.to_notation(thought.move, s.size)}"
                + (": your move" if s.human_to_move else ""))

    # -- drawing ------------------------------------------------------------------------------
    def _button(self, name: str, label: str, x: int, y: int, on: bool = False) -> None:
        rect = self.pygame.Rect(x, y, PANEL - 32, 26)
        self.pygame.draw.rect(self.screen, BUTTON_ON if on else BUTTON, rect, border_radius=4)
        self.screen.blit(self.small.render(label, True, TEXT), (x + 8, y + 6))
        self.buttons[name] = rect

    def draw(self) -> None:
        s = self.session
        c = self.choices
        self.screen.fill(BACKGROUND)
        current = self.analysis if self.analysis_at == len(s.game.moves) else None  # only this position's
        self.overlay.heat = current.priors if (self.show_heat and current is not None) else None
        self.overlay.line = current.line if (self.show_line and current is not None) else []
        draw_board(self.screen, self.geometry, s.game, self.overlay)
        x0 = self.geometry.pixels + 16
        y = 16
        turn = "game over" if s.over else f"{COLOUR_NAMES[s.game.to_move]} to move"
        for text, font in ((f"{s.rule} {s.size}x{s.size}, move {len(s.game.moves) + 1}", self.font),
                           (turn, self.font), (f"AI: {self.ai_name}"[:44], self.small)):
            self.screen.blit(font.render(text, True, TEXT), (x0, y))
            y += 24
        rate = s.black_win_rates[-1]
        label = "win rate: ?" if rate is None else f"black {100 * rate:.0f}% / white {100 * (1 - rate):.0f}%"
        self.screen.blit(self.small.render(label, True, TEXT), (x0, y))
        y += 20
        draw_win_rate_bar(self.screen, (x0, y, PANEL - 32, 14), rate, BLACK)
        y += 26
        self.buttons = {}
        values = {"game": c.selected.title, "side": SIDE_NAMES[c.side], "strength": c.strength_text()}
        for name, label in SELECTORS:
            self._button(name, f"{label}: {values[name]}", x0, y)
            y += 31
        if c.pending:
            self.screen.blit(self.small.render("(applies at the next New game)", True, TEXT), (x0, y))
            y += 20
        y += 6
        on = {"numbers": self.overlay.numbers, "heat": self.show_heat, "line": self.show_line}
        for name, label in BUTTONS:
            self._button(name, label, x0, y, on.get(name, False))
            y += 31
        if self.show_line and current is not None and current.line:
            line = " ".join(coords.to_notation(m, s.size) for m in current.line[:8])
            self.screen.blit(self.small.render(f"line: {line}", True, TEXT), (x0, y))
            y += 22
        if s.over and sum(r is not None for r in s.black_win_rates) >= 2:
            known = [r for r in s.black_win_rates if r is not None]
            self.screen.blit(self.small.render("black's win rate over the game", True, TEXT), (x0, y))
            draw_win_rate_graph(self.screen, (x0, y + 18, PANEL - 32, 90), known)
            y += 116
        busy = " ." * (int(time.time() * 3) % 4) if self.thinker.busy else ""
        status = self.small.render((self.status + busy)[:60], True, TEXT)
        self.screen.blit(status, (x0, self.screen.get_height() - 28))
        self.pygame.display.flip()
