"""``azero play``: choose the opponent and its strength, then open the window (or render a screenshot).

The opponent is the shipped checkpoint for the rules and board size
(``checkpoints/gomoku15.safetensors`` for 15x15 freestyle, ...), a
checkpoint or training run given with ``--checkpoint``, or any player spec
with ``--opponent`` (``heuristic``, ``pure:3000``, ``az:...``).
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from azero.model.shipped import SHIPPED_DIR
from azero.play.choices import LEVELS, Choices, Variant, bot_variants, checkpoint_variant, level_text, shipped_variants
from games import coords
from games.constants import BLACK, RULES, WHITE
from games.gomoku import Gomoku


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rule", choices=list(RULES), help="rules (default: the checkpoint's, else freestyle)")
    parser.add_argument("--size", type=int, help="board size (default: the checkpoint's, else 15)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--checkpoint", metavar="PATH", help="play this checkpoint (or a training run's latest)")
    who.add_argument("--opponent", metavar="SPEC", help="play any player: heuristic, pure:N, az:PATH[:sims=N]")
    parser.add_argument("--colour", "--color", choices=["black", "white"], default="black",
                        help="your colour (default: %(default)s; black moves first)")
    parser.add_argument("--level", choices=list(LEVELS), default="medium",
                        help="the AI's strength: " + ", ".join(f"{k} = {level_text(k)}" for k in LEVELS)
                        + " (default: %(default)s; the window changes it too)")
    parser.add_argument("--sims", type=int, help="simulations a move instead of --level")
    parser.add_argument("--seconds", type=float, help="seconds a move instead of --level")
    parser.add_argument("--watch", action="store_true", help="watch the AI play itself (or --white-opponent)")
    parser.add_argument("--white-opponent", metavar="SPEC", help="with --watch: another player for white")
    parser.add_argument("--name", default=None, help="your name in the arena's ratings (default: your login)")
    parser.add_argument("--db", default="runs/arena.sqlite", help="where finished games are rated (default: %(default)s)")
    parser.add_argument("--no-record", action="store_true", help="do not store finished games in the arena database")
    parser.add_argument("--load", metavar="FILE", help="start from a saved game (.psq or .sgf)")
    parser.add_argument("--save-dir", default="runs/saved-games", help="where Save puts games (default: %(default)s)")
    parser.add_argument("--save-format", choices=["sgf", "psq"], default="sgf",
                        help="the format Save writes (default: %(default)s; Load reads both)")
    parser.add_argument("--screenshot", metavar="FILE", help="render the position to a PNG and exit (no window)")
    parser.add_argument("--moves", default="", help="with --screenshot: the moves, like h8,i9,j8")
    parser.add_argument("--numbers", action="store_true", help="show move numbers (screenshots, and at start)")
    parser.add_argument("--analyse", "--analyze", action="store_true",
                        help="with --screenshot: ask the AI and draw its policy map, expected line and choice")
    parser.add_argument("--device", default="cpu", help="where the network runs (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for the network (default: half the cores, at least 1: the window and the "
                             "rest of the machine keep the others)")


FALLBACK_BOT = "heuristic"


def _custom_strength(args) -> tuple[int, float | None] | None:
    """(simulations, seconds) from --sims / --seconds, or None for the named level."""
    if args.sims is None and args.seconds is None:
        return None
    if (args.sims is not None and args.sims < 1) or (args.seconds is not None and not 0 < args.seconds <= 3600):
        raise ValueError("--sims must be positive and --seconds between 0 and 3600")
    from azero.players.spec import default_simulations

    return (args.sims if args.sims is not None else default_simulations(args.seconds)), args.seconds


def _check_game(variant: Variant, rule: str | None, size: int | None) -> None:
    from azero.players.spec import parse_spec

    if (rule or variant.rule, size or variant.size) != (variant.rule, variant.size):
        raise ValueError(f"{parse_spec(variant.base).path} was trained for {variant.title}, not "
                         f"{rule or variant.rule} {size or variant.size}x{size or variant.size}")


def choices_from(args) -> Choices:
    """What the window offers and starts with, from the options (ValueError, one line, when nothing can play)."""
    from azero.players.spec import net_spec, parse_spec, pinned, strength_given

    if args.size is not None:
        coords.check_size(args.size)
    custom = _custom_strength(args)
    if args.opponent:
        spec = parse_spec(args.opponent)
        if spec.kind in ("human", "pbrain"):
            raise ValueError(f"--opponent takes random, heuristic, pure:N or az:PATH, got {args.opponent!r}")
        if spec.kind != "az":
            variants = bot_variants(spec.text, args.rule, args.size)
        else:
            variants = [checkpoint_variant(spec.text)]
            _check_game(variants[0], args.rule, args.size)
            if custom is None and strength_given(args.opponent):
                custom = spec.simulations, spec.seconds
    elif args.checkpoint:
        given = checkpoint_variant(net_spec(args.checkpoint).text)
        _check_game(given, args.rule, args.size)
        variants = [given] + [v for v in shipped_variants() if (v.rule, v.size) != (given.rule, given.size)]
    else:
        variants = shipped_variants()
        if not variants:
            raise ValueError(f"no shipped checkpoints in {SHIPPED_DIR}; give --checkpoint PATH (or a training "
                             "run's folder), or --opponent heuristic")
    if not args.opponent:
        # Every rule stays playable in the window: where no network plays a game yet, the pattern bot does.
        covered = {(v.rule, v.size) for v in variants}
        variants += [v for v in bot_variants(FALLBACK_BOT, None, None) if (v.rule, v.size) not in covered]
    choices = Choices(variants, level=args.level, custom=custom,
                      side=None if args.watch else (BLACK if args.colour == "black" else WHITE))
    wanted = (args.rule or choices.selected.rule, args.size or choices.selected.size)
    index = choices.find(*wanted)
    if index is None:
        offered = ", ".join(v.title for v in variants)
        raise ValueError(f"no AI here plays {wanted[0]} {wanted[1]}x{wanted[1]} (offered: {offered}); "
                         "give --checkpoint PATH or --opponent heuristic")
    choices.start(index)
    if args.white_opponent:
        if not args.watch:
            raise ValueError("--white-opponent is for --watch (two AIs playing each other)")
        white = parse_spec(pinned(args.white_opponent))
        if white.kind in ("human", "pbrain"):
            raise ValueError(f"--white-opponent takes random, heuristic, pure:N or az:PATH, got {args.white_opponent!r}")
        if white.kind == "az":
            _check_game(checkpoint_variant(white.text), choices.current.rule, choices.current.size)
        choices.white_base = white.text
    return choices


def screenshot(args, choices: Choices | None) -> Path:
    """The position after --moves as a PNG: with the AI's policy map, expected line and hint when --analyse."""
    from azero.play.board_view import Overlay, render_png

    rule = args.rule or (choices.current.rule if choices else "freestyle")
    size = args.size or (choices.current.size if choices else 15)
    moves = [m for m in args.moves.replace(",", " ").split() if m]
    game = Gomoku.from_moves([coords.from_notation(m, size) for m in moves], size, rule)
    overlay = Overlay(numbers=args.numbers)
    if args.analyse:
        if choices is None or not choices.current.is_network:
            raise ValueError("--analyse needs a network to ask: a shipped checkpoint, --checkpoint or --opponent az:")
        from azero.players.factory import make_player
        from azero.players.protocol import AnalysingPlayer

        player = make_player(choices.spec_for(game.to_move), device=args.device)
        if not isinstance(player, AnalysingPlayer):
            raise ValueError(f"--analyse needs a network to ask, not {player.name}")
        analysis = player.analyse(game)
        overlay.heat, overlay.line, overlay.hint = analysis.priors, analysis.line, analysis.move
        print(f"{coords.to_notation(analysis.move, size)} for {'black' if game.to_move == BLACK else 'white'}, "
              f"win rate {100 * analysis.win_rate:.0f}%, line "
              + " ".join(coords.to_notation(m, size) for m in analysis.line))
    render_png(game, args.screenshot, overlay=overlay)
    return Path(args.screenshot)


def network_threads(requested: int | None = None, cores: int | None = None) -> int:
    """Threads for the network's CPU work in the window: ``requested``, else half the cores (at least 1, at most 4).

    torch's default (one thread per core) makes every matrix product wait for
    the busiest core: with one other program busy on a 2-core laptop the AI's
    moves took 20 to 40 times longer than with one thread.
    """
    if requested is not None:
        if requested < 1:
            raise ValueError(f"--threads must be at least 1, got {requested}")
        return requested
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def set_network_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)  # the window asks for one position at a time
    except RuntimeError:
        pass  # already set once in this process (a second window in the same process)


def run(args) -> None:
    from azero.players.factory import make_player

    set_network_threads(network_threads(args.threads))
    if args.screenshot:
        _custom_strength(args)  # bad options are refused even where no AI is needed
        try:
            choices = choices_from(args)
        except ValueError:
            if args.analyse or args.checkpoint or args.opponent:
                raise
            choices = None  # a bare position needs no AI
        print(f"wrote {screenshot(args, choices)}")
        return
    choices = choices_from(args)
    check_screen()
    from azero.play.session import PlaySession
    from azero.play.window import Thinker, Window

    seeds = iter(range(1_000_000))

    def make(spec: str):
        return make_player(spec, seed=next(seeds), device=args.device)

    variant = choices.current
    session = PlaySession(size=variant.size, rule=variant.rule, human=choices.side, human_name=args.name or _login(),
                          ai_spec=choices.opponent_spec(),
                          db_path=None if args.no_record else args.db)
    window = Window(session, Thinker(make), choices, save_dir=args.save_dir, save_format=args.save_format)
    window.overlay.numbers = args.numbers
    if args.load and not window.load(Path(args.load)):
        window.close()
        raise ValueError(window.status)
    window.run()


def check_screen() -> None:
    """Refuse, in one line, to open a window nobody can see.

    Without a display SDL quietly falls back to an off-screen driver, and the
    window would wait forever for clicks that cannot come.  Asking for a
    driver yourself (SDL_VIDEODRIVER=dummy, as the tests do) is respected.
    """
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # Desktops group and name windows by their X class: "azero", however it was started (python -m ...).
    os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", "azero")
    import pygame

    try:
        pygame.display.init()
    except pygame.error as error:
        raise ValueError(f"cannot open a window: {error}") from None
    driver = pygame.display.get_driver()
    if driver in ("offscreen", "dummy") and not os.environ.get("SDL_VIDEODRIVER"):
        pygame.display.quit()
        raise ValueError("no screen to open a window on (SDL found only its off-screen driver); run it on a "
                         "desktop, or render a position with --screenshot FILE --moves h8,i9,...")


def _login() -> str:
    try:
        return getpass.getuser() or "you"
    except Exception:  # no login name on this system (some containers)
        return "you"
