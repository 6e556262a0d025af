"""The pygame window of ``azero play``: a person against the AI, or two AIs, with analysis.

Events go to a :class:`~azero.play.session.PlaySession` (the game and what
the buttons do) and searches run on a :class:`~azero.play.thinker.Thinker`
thread, so the window never freezes; it draws with :mod:`azero.play.board_view`.
Besides playing, it analyses live (key A: the AI's candidates on the
person's turn), teaches (key T: a mistake is shown with the better move) and
reviews every finished game (:mod:`azero.play.review`: the win-rate graph with
each side's mistakes, stepped through with the arrow keys).  Tests drive
it headless (``SDL_VIDEODRIVER=dummy``) by posting events and calling
:meth:`Window.tick`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from azero.play.board_view import BoardGeometry, Overlay, draw_board, draw_win_rate_bar, draw_win_rate_graph
from azero.play.choices import SIDE_NAMES, Choices
from azero.play.review import GameReview, grade
from azero.play.session import COLOUR_NAMES, PlaySession
from azero.play.thinker import LIVE_MAX_VISITS, REVIEW_MAX_VISITS, Thinker, Thought
from games import coords
from games.constants import BLACK, WHITE
from games.gomoku import Gomoku

__all__ = ["Thinker", "Window"]

PANEL = 300
BOARD_PIXELS = 720
WINDOW_HEIGHT = 760
BACKGROUND = (238, 232, 220)
TEXT = (30, 30, 30)
BUTTON = (214, 204, 186)
BUTTON_ON = (170, 200, 235)


SELECTORS = [("game", "Game  G"), ("side", "You play  C"), ("strength", "Strength  + -")]
BUTTONS = [("new", "New game  N"), ("undo", "Undo  U"), ("hint", "Hint  H"), ("swap", "Swap sides  S"),
           ("resign", "Resign  R"), ("numbers", "Numbers  M"), ("heat", "Policy map  P"),
           ("line", "Expected line  V"), ("live", "Analysis  A"), ("teach", "Teaching  T"), ("review", "Review  W"),
           ("save", "Save  Ctrl+S"), ("load", "Load last  L"), ("quit", "Quit  Esc")]
KEYS = {"n": "new", "u": "undo", "backspace": "undo", "h": "hint", "s": "swap", "r": "resign", "m": "numbers",
        "p": "heat", "v": "line", "a": "live", "t": "teach", "w": "review", "l": "load", "g": "game", "c": "side",
        "=": "strength", "+": "strength", "[+]": "strength", "-": "weaker", "[-]": "weaker", "escape": "quit",
        "left": "back", "right": "forward", "home": "first", "end": "last", "up": "previous mistake",
        "down": "next mistake"}
SAVE_FORMATS = ("sgf", "psq")
GRADE_COLOURS = {"blunder": (200, 30, 30), "mistake": (230, 130, 20), "inaccuracy": (215, 190, 40)}
TEACH_GRADES = ("mistake", "blunder")  # what teaching mode stops the person for
ANIMATE_SECONDS = 0.3  # while the AI works the panel is redrawn this often (its dots move); otherwise on change


def wrap(font, text: str, width: int, max_lines: int = 3) -> list[str]:
    """``text`` broken at spaces into lines that ``font`` renders at most ``width`` pixels wide."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.size(f"{lines[-1]} {word}")[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while font.size(word)[0] > width and len(word) > 1:  # a word too long for a line is cut
            cut = len(word)
            while cut > 1 and font.size(word[:cut])[0] > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines[:max_lines]


@dataclass
class Teaching:
    """Teaching mode's judgement of the person's last move: the win rate before it (the AI's search) and after."""

    move: int
    before: object | None = None  # the Analysis of the position before the move
    after: float | None = None  # the person's win rate after it (1 - the AI's, searching its reply)


class Window:
    """The window: one session, one thinker, the person's choices, a board and a panel of buttons."""

    def __init__(self, session: PlaySession, thinker: Thinker, choices: Choices, save_dir: str | Path = "runs/saved-games",
                 save_format: str = "sgf"):
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
        self.screen = None
        self._fit_board()
        self.font = pygame.font.Font(None, 24)
        self.small = pygame.font.Font(None, 20)
        self.overlay = Overlay()
        self.show_heat = False
        self.show_line = False
        self.live_on = False
        self.teach_on = False
        self.analysis = None  # the newest search's Analysis ...
        self.analysis_at = -1  # ... and the number of moves on the board it was made for
        self.status = "your move" if session.human_to_move else ""
        self.waiting_for: int | None = None  # the request whose answer is the AI's move
        self.hint_request: int | None = None
        self.teaching: Teaching | None = None
        self.review: GameReview | None = None  # the finished game's review, once searched
        self.reviewing = False  # showing the review (the board at review_at moves) instead of the game
        self.review_at = 0
        self.review_request: int | None = None
        self.review_progress: tuple[int, int] | None = None
        self.running = True
        self.buttons: dict[str, tuple] = {}
        self.graph_rect = None  # where the review's graph was drawn (clicks on it jump there)
        self.frames = 0  # frames drawn (the idle window draws none)
        self.dirty = True
        self._drawn_at = 0.0
        self._set_title()
        self._warm_up()

    def _warm_up(self) -> None:
        """Load the network and compile the search now, on the thinker, saying so; the person can already click."""
        if not self.choices.current.is_network:
            return
        from games import numba_cache

        self.thinker.ask(self.session.game, self._spec(), kind="warm")
        cold = not numba_cache.compiled("azero/mcts")
        self.status = f"loading {self.ai_name}" + (
            " and compiling the search (once after an install or update: about a minute)" if cold else "")

    def _fit_board(self) -> None:
        self.geometry = BoardGeometry.fit(self.session.size, BOARD_PIXELS)
        size = (self.geometry.pixels + PANEL, max(self.geometry.pixels, WINDOW_HEIGHT))
        if self.screen is None or self.screen.get_size() != size:
            self.screen = self.pygame.display.set_mode(size)

    @property
    def ai_name(self) -> str:
        """The AI's name and the strength it plays at now (what the title and the panel say)."""
        return self.choices.ai_label()

    def _set_title(self) -> None:
        self.pygame.display.set_caption(f"azero: {self.ai_name}")

    def _spec(self) -> str:
        """The AI to ask about the position on the board (the one that moves next, or the person's opponent)."""
        return self.choices.spec_for(self.session.game.to_move)

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
        """One frame: events, the thinker's answers, the AI's turn, analysis, drawing (only when something changed)."""
        for event in self.pygame.event.get():
            if event.type != self.pygame.MOUSEMOTION:
                self.dirty = True
            self.handle(event)
        self._collect_thoughts()
        self._start_ai_turn()
        self._keep_analysing()
        self._start_review()
        animate = self.thinker.busy and time.monotonic() - self._drawn_at >= ANIMATE_SECONDS
        if self.running and (self.dirty or animate):
            self.draw()

    def close(self) -> None:
        self.running = False
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
            if self.reviewing and self.graph_rect is not None and self.graph_rect.collidepoint(event.pos):
                x, _, w, _ = self.graph_rect
                last = len(self.review.moves)
                self._review_to(round((event.pos[0] - x - 2) / max(w - 4, 1) * last))
                return
            move = self.geometry.point_at(*event.pos)
            if move is not None:
                self.click(move)
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_s and event.mod & pygame.KMOD_CTRL:
                self.command("save")
            else:
                name = KEYS.get(pygame.key.name(event.key))
                if name:
                    self.command(name)

    def click(self, move: int) -> None:
        if self.reviewing:
            self.status = "reviewing: W returns to the game, N starts a new one"
            return
        refusal = self.session.refusal(move)
        if refusal is not None:
            self.status = refusal
            return
        s = self.session
        before = s.game.copy()
        s.play(move)
        self._position_changed()
        self.status = s.result_text() if s.over else ""
        if self.teach_on and self.choices.current.is_network and not s.over:
            self._judge(before, move)

    def command(self, name: str) -> None:
        s = self.session
        if name == "new":
            self.new_game()
        elif name == "quit":
            self.running = False
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
            self._set_title()
            self.status = f"strength: {self.choices.strength_text()} (from the AI's next move)"
        elif name == "undo":
            taken = s.undo()
            self._leave_review()
            self._position_changed()
            self.status = f"took back {taken} move{'s' if taken != 1 else ''}" if taken else "nothing to undo"
        elif name == "hint":
            if s.human_to_move and self.hint_request is None and not self.reviewing:
                self.hint_request = self.thinker.ask(s.game, self._spec(), kind="hint")
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
        elif name in ("live", "teach"):
            if not self.choices.current.is_network:
                self.status = f"{'live analysis' if name == 'live' else 'teaching'} needs a network; {self.ai_name} is not one"
                return
            if name == "live":
                self.live_on = not self.live_on
                self.status = ("live analysis on: the AI searches your position and shows its candidates"
                               if self.live_on else "live analysis off")
            else:
                self.teach_on = not self.teach_on
                self.status = ("teaching on: a mistake is shown with the better move" if self.teach_on
                               else "teaching off")
            if not (self.live_on or self.teach_on):
                self.thinker.stop_live()
        elif name == "review":
            self._toggle_review()
        elif name in ("back", "forward", "first", "last", "previous mistake", "next mistake"):
            self._step_review(name)
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
        self._leave_review()
        self._fit_board()
        self._position_changed()
        self._set_title()
        self.status = f"loaded {path}"
        return True

    def new_game(self) -> None:
        """Start again with what is selected (the game and side may have changed since the last one)."""
        variant = self.choices.start()
        s = self.session
        s.human = self.choices.side
        s.ai_spec = self.choices.opponent_spec()
        s.new_game(size=variant.size, rule=variant.rule)
        self._leave_review()
        self._fit_board()
        self._position_changed()
        self.analysis, self.analysis_at = None, -1
        self._set_title()
        self.status = f"new game, {variant.title}: " + (
            "your move" if s.human_to_move else "the AI begins" if s.human is not None else "watch")

    def _position_changed(self) -> None:
        """Whatever was being searched or shown belongs to another position now."""
        self.thinker.forget()
        self.waiting_for = None
        self.hint_request = None
        self.review_request = None
        self.review_progress = None
        self.teaching = None
        self.overlay.hint = None
        self.overlay.better = None

    # -- the AI ---------------------------------------------------------------------------
    def _start_ai_turn(self) -> None:
        s = self.session
        if s.ai_to_move and self.waiting_for is None and not self.reviewing:
            self.waiting_for = self.thinker.ask(s.game, self._spec())
            self.status = (self.status + "; " if self.teaching else "") + f"{self.ai_name} is thinking ..."

    def _keep_analysing(self) -> None:
        """On the person's turn, keep the AI searching their position when something shows its analysis."""
        s = self.session
        wanted = self.live_on or self.teach_on or self.show_heat or self.show_line
        if wanted and s.human_to_move and not self.reviewing and self.choices.current.is_network:
            self.thinker.live(s.game, self._spec())

    def _judge(self, before: Gomoku, move: int) -> None:
        """Teaching: have the AI judge the position before the person's move (its own reply judges the one after)."""
        self.teaching = Teaching(move)
        known = self.analysis if self.analysis_at == len(before.moves) else None
        simulations = self.choices.strength()[0]
        if known is not None and known.simulations >= min(simulations, LIVE_MAX_VISITS):
            self.teaching.before = known  # live analysis searched it enough already
        else:
            self.thinker.ask(before, self.choices.spec_for(before.to_move), kind="judge",
                             visits=min(simulations, LIVE_MAX_VISITS))

    def _collect_thoughts(self) -> None:
        for thought in self.thinker.poll():
            self.dirty = True
            self._take(thought)

    def _take(self, thought: Thought) -> None:
        s = self.session
        if self.thinker.error:
            self.status, self.thinker.error = self.thinker.error, None
            self.waiting_for = self.hint_request = self.review_request = None
            return
        if thought.kind == "warm":
            if self.status.startswith("loading"):
                self.status = "your move" if s.human_to_move else (
                    f"{self.ai_name} is thinking ..." if self.waiting_for is not None else "")
            return
        if thought.kind == "review":
            if thought.final:
                self.review, self.review_request, self.review_progress = thought.review, None, None
                if self.overlay.better is not None:  # a lesson on the last move is on screen: it stays
                    self.status += "; W shows the review"
                else:
                    self._enter_review(len(self.review.moves))
            else:
                self.review_progress = thought.done
            return
        if thought.kind == "judge":
            if self.teaching is not None:
                self.teaching.before = thought.analysis
                self._teach()
            return
        if thought.kind == "live" and thought.moves != len(s.game.moves):
            return  # the progress of a search of another position (teaching's judgement of the one before)
        black_rate = None
        if thought.analysis is not None:
            self.analysis, self.analysis_at = thought.analysis, len(s.game.moves)
            rate = thought.analysis.win_rate
            black_rate = rate if s.game.to_move == BLACK else 1.0 - rate
            s.note_analysis(black_rate)
        if thought.kind == "hint":
            self.overlay.hint = thought.move
            self.hint_request = None
            self.status = f"hint: {coords.to_notation(thought.move, s.size)}"
        elif thought.kind == "move" and thought.request == self.waiting_for and s.ai_to_move:
            self.waiting_for = None
            if self.teaching is not None and thought.analysis is not None:
                self.teaching.after = 1.0 - thought.analysis.win_rate
            s.play(thought.move, black_win_rate=black_rate)  # its best line keeps the value it searched
            self.thinker.forget()
            self.status = s.result_text() if s.over else (
                f"{self.ai_name} played {coords.to_notation(thought.move, s.size)}"
                + (": your move" if s.human_to_move else ""))
            self._teach()

    def _teach(self) -> None:
        """Once both halves of a teaching judgement are in: say so if the person's move was a mistake."""
        t = self.teaching
        if t is None or t.before is None or t.after is None or self.waiting_for is not None:
            return
        self.teaching = None
        before = t.before.win_rate
        verdict = grade(before - t.after)
        size = self.session.size
        if verdict in TEACH_GRADES and t.before.move != t.move:
            self.overlay.better = t.before.move
            self.status = (f"{coords.to_notation(t.move, size)} was a {verdict}: your win rate fell from "
                           f"{100 * before:.0f}% to {100 * t.after:.0f}%; {coords.to_notation(t.before.move, size)} "
                           f"(ringed) was better. U takes your move back")
        else:
            self.status += f" (your {coords.to_notation(t.move, size)}: fine, {100 * t.after:.0f}%)"

    # -- review -------------------------------------------------------------------------------
    def _start_review(self) -> None:
        """At the end of a game with a network, the AI reviews it in the background."""
        s = self.session
        if (s.over and self.review is None and self.review_request is None and len(s.game.moves) >= 2
                and self.choices.current.is_network):
            visits = min(self.choices.strength()[0], REVIEW_MAX_VISITS)
            spec = self.choices.spec_for(BLACK if s.human == WHITE else WHITE)
            self.review_request = self.thinker.ask(s.game, spec, kind="review", visits=visits)

    def _toggle_review(self) -> None:
        if self.reviewing:
            self._leave_review()
            self.status = "back to the game"
        elif self.review is not None:
            self._enter_review(len(self.review.moves))
        elif self.review_request is not None:
            self.status = "the review is being searched ..."
        elif not self.choices.current.is_network:
            self.status = f"a review needs a network; {self.ai_name} is not one"
        else:
            self.status = "the review comes at the end of the game"

    def _enter_review(self, at: int) -> None:
        self.reviewing = True
        count = len(self.review.mistakes())
        result = self.session.result_text()
        self.status = (f"{result}. " if result else "") + (
            f"review: {count} mistake{'s' if count != 1 else ''} marked; left/right step, up/down jump to "
            "mistakes, or click the graph; W: back to the game")
        self._review_to(at)

    def _leave_review(self) -> None:
        self.reviewing = False
        self.review = None if not self.session.over else self.review
        self.overlay.better = None
        self.overlay.hint = None

    def _review_to(self, at: int) -> None:
        if self.review is None:
            return
        self.review_at = max(0, min(at, len(self.review.moves)))
        self.dirty = True

    def _step_review(self, name: str) -> None:
        if not self.reviewing:
            return
        at, last = self.review_at, len(self.review.moves)
        marked = [m.number for m in self.review.mistakes()]
        target = {"back": at - 1, "forward": at + 1, "first": 0, "last": last,
                  "previous mistake": max([n for n in marked if n < at], default=at),
                  "next mistake": min([n for n in marked if n > at], default=at)}[name]
        self._review_to(target)

    # -- drawing ------------------------------------------------------------------------------
    def _button(self, name: str, label: str, x: int, y: int, width: int, on: bool = False) -> int:
        """A button with ``label`` (on two lines when one is too narrow); returns its height."""
        lines = wrap(self.small, label, width - 12, max_lines=2)
        height = 8 + len(lines) * self.small.get_linesize()
        rect = self.pygame.Rect(x, y, width, max(26, height))
        self.pygame.draw.rect(self.screen, BUTTON_ON if on else BUTTON, rect, border_radius=4)
        for i, line in enumerate(lines):
            self.screen.blit(self.small.render(line, True, TEXT), (x + 6, y + 5 + i * self.small.get_linesize()))
        self.buttons[name] = rect
        return rect.height

    def _text(self, text: str, x: int, y: int, font=None, max_lines: int = 2) -> int:
        """Draw ``text`` wrapped to the panel; returns the y below it."""
        font = font or self.small
        for line in wrap(font, text, PANEL - 32, max_lines):
            self.screen.blit(font.render(line, True, TEXT), (x, y))
            y += font.get_linesize()
        return y

    def _shown(self) -> tuple[Gomoku, object | None]:
        """The position on the board (the game, or the reviewed move) and the analysis to draw on it."""
        s = self.session
        if self.reviewing:
            return Gomoku.from_moves(self.review.moves[:self.review_at], s.size, s.rule), None
        return s.game, (self.analysis if self.analysis_at == len(s.game.moves) else None)  # only this position's

    def draw(self) -> None:
        s, c = self.session, self.choices
        self.frames += 1
        self.dirty = False
        self._drawn_at = time.monotonic()
        self.screen.fill(BACKGROUND)
        game, current = self._shown()
        self.overlay.heat = current.priors if (self.show_heat and current is not None) else None
        self.overlay.line = current.line if (self.show_line and current is not None) else []
        self.overlay.candidates = current.candidates() if (self.live_on and current is not None) else []
        reviewed = self.review.move_reviews[self.review_at - 1] if self.reviewing and self.review_at > 0 else None
        if self.reviewing:
            self.overlay.better = reviewed.better if reviewed is not None else None
            self.overlay.line = reviewed.line if (reviewed is not None and self.show_line) else []
        draw_board(self.screen, self.geometry, game, self.overlay)
        x0 = self.geometry.pixels + 16
        y = 16
        turn = "game over" if s.over else f"{COLOUR_NAMES[s.game.to_move]} to move"
        heading = f"{s.rule} {s.size}x{s.size}, move {len(s.game.moves) + 1}"
        if self.reviewing:
            heading = f"review: move {self.review_at} of {len(self.review.moves)}"
        for text, font in ((heading, self.font),
                           (turn, self.font), (f"AI: {self.ai_name}", self.small)):
            y = self._text(text, x0, y, font, max_lines=1) + 4
        rate = self.review.black_win_rates[self.review_at] if self.reviewing else s.black_win_rates[-1]
        label = "win rate: ?" if rate is None else f"black {100 * rate:.0f}% / white {100 * (1 - rate):.0f}%"
        y = self._text(label, x0, y, max_lines=1) + 2
        draw_win_rate_bar(self.screen, (x0, y, PANEL - 32, 14), rate, BLACK)
        y += 24
        self.buttons = {}
        values = {"game": c.selected.title, "side": SIDE_NAMES[c.side], "strength": c.strength_text()}
        for name, label in SELECTORS:
            y += self._button(name, f"{label}: {values[name]}", x0, y, PANEL - 32) + 5
        if c.pending:
            y = self._text("(applies at the next New game)", x0, y, max_lines=1)
        y += 6
        on = {"numbers": self.overlay.numbers, "heat": self.show_heat, "line": self.show_line, "live": self.live_on,
              "teach": self.teach_on, "review": self.reviewing}
        half = (PANEL - 40) // 2
        for i, (name, label) in enumerate(BUTTONS):
            self._button(name, label, x0 + (i % 2) * (half + 8), y, half, on.get(name, False))
            y += 31 if i % 2 else 0
        y += 31 if len(BUTTONS) % 2 else 4
        y = self._draw_analysis_text(x0, y, current, reviewed)
        self._draw_graph(x0, y)
        busy = " ." * (int(time.time() * 3) % 4) if self.thinker.busy else ""
        lines = wrap(self.small, self.status + busy, PANEL - 32, max_lines=4)
        for i, line in enumerate(lines):
            self.screen.blit(self.small.render(line, True, TEXT),
                             (x0, self.screen.get_height() - 10 - (len(lines) - i) * self.small.get_linesize()))
        self.pygame.display.flip()

    def _draw_analysis_text(self, x0: int, y: int, current, reviewed) -> int:
        size = self.session.size
        if self.reviewing:
            position = self.review.positions[self.review_at]
            if reviewed is None:
                y = self._text("the start of the game", x0, y)
            else:
                mover = COLOUR_NAMES[reviewed.colour]
                verdict = reviewed.grade or "good"
                y = self._text(f"move {reviewed.number}, {mover} {coords.to_notation(reviewed.move, size)}: {verdict} "
                               f"({100 * reviewed.before:.0f}% -> {100 * reviewed.after:.0f}% for {mover})", x0, y)
                if reviewed.better is not None:
                    line = " ".join(coords.to_notation(m, size) for m in reviewed.line[:8])
                    y = self._text(f"AI instead: {coords.to_notation(reviewed.better, size)} (ringed); line {line}",
                                   x0, y)
            if position.best is not None:
                y = self._text(f"next, the AI would play {coords.to_notation(position.best, size)}", x0, y, max_lines=1)
            return y + 4
        if current is not None and (self.live_on or self.show_line):
            best = current.candidates(1)
            head = (f"AI: {coords.to_notation(best[0][0], size)} {100 * best[0][1]:.0f}%, "
                    f"{current.simulations} visits" if best else f"AI: {current.simulations} visits")
            line = " ".join(coords.to_notation(m, size) for m in current.line[:8])
            y = self._text(f"{head}; line {line}", x0, y)
        elif self.review_progress is not None:
            done, total = self.review_progress
            y = self._text(f"reviewing the game: {done} of {total} positions", x0, y, max_lines=1)
        return y + 4

    def _draw_graph(self, x0: int, y: int) -> None:
        s = self.session
        self.graph_rect = None
        if self.review is not None:
            rates = self.review.black_win_rates
            marks = [(m.number, GRADE_COLOURS[m.grade]) for m in self.review.mistakes()]
            cursor = self.review_at if self.reviewing else None
        elif s.over and sum(r is not None for r in s.black_win_rates) >= 2:
            rates, marks, cursor = [r for r in s.black_win_rates if r is not None], [], None
        else:
            return
        self.screen.blit(self.small.render("black's win rate over the game", True, TEXT), (x0, y))
        height = max(40, min(110, self.screen.get_height() - y - 90))
        self.graph_rect = self.pygame.Rect(x0, y + 18, PANEL - 32, height)
        draw_win_rate_graph(self.screen, self.graph_rect, rates, marks=marks, cursor=cursor)
