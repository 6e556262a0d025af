"""What the person can choose in ``azero play``'s window: the game (rules and board), their side, the AI's strength.

A :class:`Variant` is one game the window can offer with the AI that plays
it: a shipped checkpoint for its rules and size, the checkpoint given on the
command line, or a rule-agnostic bot (``heuristic``, ``pure:N``) on any
board.  :class:`Choices` is the selection.  The game and the side take
effect at the next New game (a click must never throw away a game in
progress); the strength takes effect at the AI's next move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from azero.model.shipped import SHIPPED, shipped_checkpoint
from games.constants import BLACK, RULES, WHITE

# Named strengths of a network: (simulations a move, seconds a move or None). 'max' thinks by the clock.
LEVELS = {"easy": (32, None), "medium": (200, None), "hard": (800, None), "max": (20000, 5.0)}
DEFAULT_LEVEL = "medium"
SIDES = (BLACK, WHITE, None)  # None: watch the AI play itself
SIDE_NAMES = {BLACK: "black", WHITE: "white", None: "watch"}
# Boards offered with a bot that plays any game (there is no checkpoint to pin the size).
BOT_SIZES = (15, 9)


def strength_words(simulations: int, seconds: float | None) -> str:
    return f"{seconds:g} s a move" if seconds is not None else f"{simulations} simulations"


def level_text(name: str) -> str:
    return strength_words(*LEVELS[name])


@dataclass(frozen=True)
class Variant:
    """One game on offer and the AI for it."""

    rule: str
    size: int
    base: str  # the AI's player spec at its default strength: 'az:FILE' (pinned), 'heuristic', 'pure:3000'
    label: str  # how the window names the AI: a network's name without a strength ('gomoku15'), else the spec

    @property
    def is_network(self) -> bool:
        from azero.players.spec import parse_spec

        return parse_spec(self.base).kind == "az"

    @property
    def title(self) -> str:
        return f"{self.rule} {self.size}x{self.size}"


def checkpoint_variant(spec: str) -> Variant:
    """The variant an ``az:`` spec plays: its checkpoint's rules and size (ArenaError for a bad one)."""
    from azero.arena.store import player_facts
    from azero.players.spec import net_spec, parse_spec, pinned

    base = net_spec(parse_spec(pinned(spec)).path).text
    facts = player_facts(base)
    # The arena's label names a strength ('gomoku15@400'); the window adds the one it plays at.
    return Variant(facts["rule"], facts["size"], base, facts["label"].rsplit("@", 1)[0])


def bot_variants(spec: str, rule: str | None, size: int | None) -> list[Variant]:
    """A rule-agnostic bot on every rule, for the requested board and the common ones."""
    sizes = [size] if size else []
    sizes += [s for s in BOT_SIZES if s not in sizes]
    rules = [rule] if rule else []
    rules += [r for r in RULES if r not in rules]
    return [Variant(r, s, spec, spec) for s in sizes for r in rules]


def shipped_variants() -> list[Variant]:
    from azero.players.spec import net_spec

    return [checkpoint_variant(net_spec(path).text) for path in
            (shipped_checkpoint(rule, size) for rule, size in SHIPPED) if path is not None]


@dataclass
class Choices:
    """The selection: which variant, which side the person plays, how strong the AI is.

    ``custom`` (simulations, seconds) replaces the named level when the
    command line gave ``--sims`` or ``--seconds``; cycling the strength
    returns to the named levels.  ``white_base`` fixes another AI for white
    (watch mode with two players); the game cannot change then.
    """

    variants: list[Variant]
    variant: int = 0
    side: int | None = BLACK
    level: str = DEFAULT_LEVEL
    custom: tuple[int, float | None] | None = None
    white_base: str | None = None
    # What the running game was started with; the selection may differ until the next New game.
    playing: tuple[int, int | None] = field(init=False)
    _elos: dict = field(init=False, default_factory=dict)  # network base -> {level: Elo}, read once

    def __post_init__(self):
        if not self.variants:
            raise ValueError("there is no game to offer")
        self.playing = (self.variant, self.side)

    # -- what is selected ------------------------------------------------------------------
    @property
    def current(self) -> Variant:
        """The variant of the game on the board (not a pending selection)."""
        return self.variants[self.playing[0]]

    @property
    def selected(self) -> Variant:
        return self.variants[self.variant]

    @property
    def pending(self) -> bool:
        """Whether the next New game differs from the game on the board."""
        return (self.variant, self.side) != self.playing

    def strength(self) -> tuple[int, float | None]:
        return self.custom if self.custom is not None else LEVELS[self.level]

    def strength_text(self) -> str:
        if not self.current.is_network:
            return "fixed (not a network)"
        if self.custom is not None:
            return strength_words(*self.custom)
        rated = self.level_elos.get(self.level)
        return f"{self.level}: {level_text(self.level)}" + ("" if rated is None else f", Elo {rated[0]:+.0f} ±{rated[1]:.0f}")

    @property
    def level_elos(self) -> dict[str, tuple[float, float]]:
        """The named levels' (Elo, half its 95% interval) against the pattern bot in the shipped ratings."""
        variant = self.current
        if variant.base not in self._elos:
            from azero.arena.level_ratings import level_elos

            self._elos[variant.base] = level_elos(variant.base, LEVELS) if variant.is_network else {}
        return self._elos[variant.base]

    def ai_label(self, colour: int | None = None) -> str:
        """The AI's name with the strength it plays at now: 'gomoku15@200', 'gomoku15@5s', 'heuristic'."""
        if colour == WHITE and self.white_base is not None:
            return self.white_base
        if not self.current.is_network:
            return self.current.label
        simulations, seconds = self.strength()
        return f"{self.current.label}@{seconds:g}s" if seconds is not None else f"{self.current.label}@{simulations}"

    def spec_for(self, colour: int) -> str:
        """The player spec of the AI that plays ``colour`` in the game on the board."""
        if colour == WHITE and self.white_base is not None:
            return self.white_base
        return self._with_strength(self.current.base)

    def opponent_spec(self) -> str:
        """The spec of the AI the person plays in the game on the board (what their game is rated against)."""
        return self.spec_for(BLACK if self.playing[1] == WHITE else WHITE)

    def _with_strength(self, base: str) -> str:
        from azero.players.spec import with_strength

        return with_strength(base, *self.strength())

    def find(self, rule: str, size: int) -> int | None:
        """The index of the first variant that plays ``rule`` on ``size``, or None."""
        return next((i for i, v in enumerate(self.variants) if (v.rule, v.size) == (rule, size)), None)

    # -- changing it ------------------------------------------------------------------------
    def cycle_variant(self) -> None:
        if self.white_base is None:
            self.variant = (self.variant + 1) % len(self.variants)

    def cycle_side(self) -> None:
        self.side = SIDES[(SIDES.index(self.side) + 1) % len(SIDES)]

    def cycle_level(self, step: int = 1) -> None:
        names = list(LEVELS)
        if self.custom is not None:
            self.custom = None  # back to the named levels, from the default
            return
        self.level = names[(names.index(self.level) + step) % len(names)]

    def swap(self, human: int | None) -> None:
        """The person changed sides in the middle of a game: they keep that side in later games too."""
        self.side = human
        self.playing = (self.playing[0], human)

    def start(self, variant: int | None = None) -> Variant:
        """A new game begins (of ``variant`` if given): the selection becomes the game on the board."""
        if variant is not None:
            self.variant = variant
        self.playing = (self.variant, self.side)
        return self.current
