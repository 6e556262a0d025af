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

from games import coords
from games.constants import BLACK, RULES, WHITE
from games.gomoku import Gomoku

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
SHIPPED = {("freestyle", 15): "gomoku15", ("renju", 15): "renju15", ("freestyle", 9): "gomoku9",
           ("freestyle", 8): "gomoku8"}
# Named strengths: simulations a move (a network's), or seconds a move for 'max'.
LEVELS = {"easy": (32, None), "medium": (200, None), "hard": (800, None), "max": (20000, 5.0)}


def shipped_checkpoint(rule: str, size: int) -> Path | None:
    name = SHIPPED.get((rule, size))
    path = SHIPPED_DIR / f"{name}.safetensors" if name else None
    return path if path is not None and path.is_file() else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rule", choices=list(RULES), help="rules (default: the checkpoint's, else freestyle)")
    parser.add_argument("--size", type=int, help="board size (default: the checkpoint's, else 15)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--checkpoint", metavar="PATH", help="play this checkpoint (or a training run's latest)")
    who.add_argument("--opponent", metavar="SPEC", help="play any player: heuristic, pure:N, az:PATH[:sims=N]")
    parser.add_argument("--colour", "--color", choices=["black", "white"], default="black",
                        help="your colour (default: %(default)s; black moves first)")
    parser.add_argument("--level", choices=list(LEVELS), default="medium",
                        help="the AI's strength: " + ", ".join(
                            f"{k} = {s if t is None else f'{t:g} s'}" + (" simulations" if t is None else "")
                            for k, (s, t) in LEVELS.items()) + " (default: %(default)s)")
    parser.add_argument("--sims", type=int, help="simulations a move instead of --level")
    parser.add_argument("--seconds", type=float, help="seconds a move instead of --level")
    parser.add_argument("--watch", action="store_true", help="watch the AI play itself (or --white-opponent)")
    parser.add_argument("--white-opponent", metavar="SPEC", help="with --watch: another player for white")
    parser.add_argument("--name", default=None, help="your name in the arena's ratings (default: your login)")
    parser.add_argument("--db", default="runs/arena.sqlite", help="where finished games are rated (default: %(default)s)")
    parser.add_argument("--no-record", action="store_true", help="do not store finished games in the arena database")
    parser.add_argument("--load", metavar="FILE", help="start from a saved game (.psq or .sgf)")
    parser.add_argument("--save-dir", default="games", help="where Save puts games (default: %(default)s)")
    parser.add_argument("--screenshot", metavar="FILE", help="render the position to a PNG and exit (no window)")
    parser.add_argument("--moves", default="", help="with --screenshot: the moves, like h8,i9,j8")
    parser.add_argument("--numbers", action="store_true", help="show move numbers (screenshots, and at start)")
    parser.add_argument("--device", default="cpu", help="where the network runs (default: %(default)s)")


def opponent_spec(args) -> str:
    """The AI's player spec from the options (ValueError, one line, when there is none to play)."""
    from .players import parse_spec

    if args.opponent:
        spec = parse_spec(args.opponent)
        if spec.kind in ("human", "pbrain"):
            raise ValueError(f"--opponent takes random, heuristic, pure:N or az:PATH, got {args.opponent!r}")
        return spec.text
    rule, size = args.rule or "freestyle", args.size or 15
    path = args.checkpoint or shipped_checkpoint(rule, size)
    if path is None:
        raise ValueError(f"no shipped checkpoint for {rule} {size}x{size} in {SHIPPED_DIR}; give --checkpoint "
                         "PATH (or a training run's folder), or --opponent heuristic")
    simulations, seconds = LEVELS[args.level]
    if args.sims is not None:
        simulations, seconds = args.sims, None
    if args.seconds is not None:
        seconds = args.seconds
    if simulations < 1 or (seconds is not None and not 0 < seconds <= 3600):
        raise ValueError("--sims must be positive and --seconds between 0 and 3600")
    return f"az:{path}:sims={simulations}" + (f":time={seconds:g}" if seconds is not None else "")


def game_for(args, facts: dict) -> tuple[str, int]:
    """Rules and size: given, or the checkpoint's (``facts``: :func:`azero.arena_store.player_facts` of the AI)."""
    spec = facts["spec"]
    rule = args.rule or facts["rule"] or "freestyle"
    size = args.size or facts["size"] or 15
    coords.check_size(size)
    if facts["kind"] == "az" and (facts["rule"], facts["size"]) != (rule, size):
        raise ValueError(f"{spec[3:]} was trained for {facts['rule']} {facts['size']}x{facts['size']}, "
                         f"not {rule} {size}x{size}")
    return rule, size


def screenshot(args, rule: str, size: int) -> Path:
    from .board_view import Overlay, render_png

    moves = [m for m in args.moves.replace(",", " ").split() if m]
    game = Gomoku.from_moves([coords.from_notation(m, size) for m in moves], size, rule)
    render_png(game, args.screenshot, overlay=Overlay(numbers=args.numbers))
    return Path(args.screenshot)


def run(args) -> None:
    from .arena_store import player_facts
    from .players import make_player, pinned

    spec = pinned(opponent_spec(args))
    facts = player_facts(spec)
    rule, size = game_for(args, facts)
    if args.screenshot:
        print(f"wrote {screenshot(args, rule, size)}")
        return
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from .play_session import PlaySession
    from .window import Thinker, Window

    ai = make_player(spec, device=args.device, game=(rule, size, 5))
    players = {BLACK: ai, WHITE: ai}
    if args.watch and args.white_opponent:
        white_spec = pinned(args.white_opponent)
        game_for(args, player_facts(white_spec))
        players[WHITE] = make_player(white_spec, seed=1, device=args.device, game=(rule, size, 5))
    name = args.name or _login()
    session = PlaySession(size=size, rule=rule, human=None if args.watch else (BLACK if args.colour == "black" else WHITE),
                          human_name=name, ai_spec=spec, db_path=None if args.no_record else args.db)
    if args.load:
        session.load(args.load)
    label = facts["label"] if facts["kind"] == "az" else spec
    window = Window(session, Thinker(players), save_dir=args.save_dir, title=f"azero: {label}", ai_name=label)
    window.overlay.numbers = args.numbers
    window.run()


def _login() -> str:
    try:
        return getpass.getuser() or "you"
    except Exception:  # no login name on this system (some containers)
        return "you"
