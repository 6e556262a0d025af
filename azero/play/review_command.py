"""``azero review GAME``: the AI's verdict on every move of a saved game, in the terminal and in the window.

Searches every position (:func:`azero.play.review.review_game`) with a network,
the shipped one for the game's rules and size unless ``--checkpoint`` or
``--opponent`` names another, prints each side's inaccuracies, mistakes and
blunders with the move the AI would have played instead, then opens the
window in review mode (the win-rate graph with the mistakes marked, the
arrow keys step through the game).  ``--screenshot`` draws that window to a
PNG instead, ``--json`` prints the whole review.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from azero.play.session import COLOUR_NAMES
from games import coords
from games.constants import BLACK, RULES

if TYPE_CHECKING:
    from azero.players.protocol import AnalysingPlayer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game", help="the game: an SGF or PSQ record (as the window's Save writes them)")
    parser.add_argument("--rule", choices=list(RULES), default="freestyle",
                        help="the rules of a PSQ record, which has none (default: %(default)s; SGF says its own)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--checkpoint", metavar="PATH", help="review with this checkpoint (or a training run's latest)")
    who.add_argument("--opponent", metavar="SPEC", help="review with this network: az:PATH[:vct=N]")
    parser.add_argument("--sims", type=int, default=400, help="root visits a position (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the network (default: half the cores)")
    parser.add_argument("--device", default="cpu", help="where the network runs (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the review as JSON and exit (no window)")
    parser.add_argument("--no-window", action="store_true", help="print the mistakes and exit")
    parser.add_argument("--screenshot", metavar="FILE", help="draw the review window to a PNG and exit")
    parser.add_argument("--at", type=int, default=None,
                        help="with --screenshot: show the position after this many moves (default: the worst move)")


def _network_spec(args, rule: str, size: int) -> str:
    from azero.model.shipped import shipped_checkpoint
    from azero.players.spec import net_spec, parse_spec

    if args.opponent:
        parsed = parse_spec(args.opponent)
        if parsed.kind != "az":
            raise ValueError(f"a review needs a network: --opponent az:PATH, got {args.opponent!r}")
        return parsed.text
    if args.checkpoint:
        return net_spec(args.checkpoint).text
    shipped = shipped_checkpoint(rule, size)
    if shipped is None:
        raise ValueError(f"no shipped network plays {rule} {size}x{size}; give --checkpoint PATH")
    return net_spec(shipped).text


def load_game(path: str, rule: str):
    from games.records import load_record

    game = load_record(path, rule=rule).to_game()
    if len(game.moves) < 1:
        raise ValueError(f"{path}: the game has no moves to review")
    return game


def plural(grade: str, count: int) -> str:
    if count == 1:
        return grade
    return "inaccuracies" if grade == "inaccuracy" else f"{grade}s"


def report(review) -> str:
    """The graded moves, one line each, with what the AI would have played."""
    size = review.size
    lines = []
    for colour in (BLACK, 3 - BLACK):
        found = review.mistakes(colour)
        counts = {g: sum(m.grade == g for m in found) for g in ("blunder", "mistake", "inaccuracy")}
        lines.append(f"{COLOUR_NAMES[colour]}: " + ", ".join(f"{n} {plural(g, n)}" for g, n in counts.items()))
    lines.append("")
    lines.append(f"{'move':>4}  {'colour':6}  {'played':6}  {'grade':10}  {'win rate':>15}  AI instead, its line")
    for m in review.mistakes():
        line = " ".join(coords.to_notation(x, size) for x in m.line[:6])
        lines.append(f"{m.number:>4}  {COLOUR_NAMES[m.colour]:6}  {coords.to_notation(m.move, size):6}  {m.grade:10}  "
                     f"{100 * m.before:5.0f}% -> {100 * m.after:3.0f}%  {coords.to_notation(m.better, size)}: {line}")
    return "\n".join(lines)


def as_json(review) -> dict:
    size = review.size
    return {"size": size, "rule": review.rule,
            "moves": [{"number": m.number, "colour": COLOUR_NAMES[m.colour], "move": coords.to_notation(m.move, size),
                       "before": m.before, "after": m.after, "grade": m.grade,
                       "better": None if m.better is None else coords.to_notation(m.better, size),
                       "line": [coords.to_notation(x, size) for x in m.line]} for m in review.move_reviews]}


def run(args) -> None:
    from azero.play.app import check_screen, network_threads, set_network_threads
    from azero.players.factory import make_player
    from azero.players.protocol import AnalysingPlayer
    from azero.players.spec import parse_spec

    if args.sims < 1:
        raise ValueError(f"--sims must be positive, got {args.sims}")
    game = load_game(args.game, args.rule)
    spec = _network_spec(args, game.rule, game.size)
    set_network_threads(network_threads(args.threads))
    reviewer = dataclasses.replace(parse_spec(spec), simulations=args.sims)
    player = make_player(reviewer, device=args.device, game=(game.rule, game.size, game.n_in_row))
    assert isinstance(player, AnalysingPlayer)  # an az: spec builds a network
    review = _review_with_progress(player, game)
    if args.json:
        print(json.dumps(as_json(review)))
        return
    print(report(review))
    if args.no_window:
        return
    if args.screenshot:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    else:
        check_screen()
    window = review_window(review, game, spec, player)
    if args.screenshot:
        while window.thinker.busy:  # the window's warm-up of the network (already loaded: a moment)
            window.tick()
        worst = max(review.move_reviews, key=lambda m: m.loss if m.grade else -1.0)
        window._review_to(args.at if args.at is not None else worst.number)
        window.draw()
        from azero.play.board_view import _save_surface

        _save_surface(window.screen, args.screenshot)
        window.close()
        print(f"wrote {Path(args.screenshot)}")
        return
    window.run()


def _review_with_progress(player: AnalysingPlayer, game):
    from tqdm import tqdm

    from azero.play.review import review_game

    with tqdm(total=len(game.moves) + 1, desc="reviewing", unit="position", dynamic_ncols=True) as bar:
        return review_game(player, game, progress=lambda done, total: bar.update(done - bar.n))


def review_window(review, game, spec: str, player: AnalysingPlayer):
    """The window, showing ``review`` of ``game``; the network that reviewed it plays on if the person continues."""
    from azero.play.choices import Choices, checkpoint_variant
    from azero.play.session import PlaySession
    from azero.play.thinker import Thinker
    from azero.play.window import Window

    variant = checkpoint_variant(spec)
    # A finished game is watched (nobody is "you"); from an unfinished one the person plays on the side to move.
    choices = Choices([variant], side=game.to_move if game.winner == 0 else None,
                      custom=(player.simulations, None))
    session = PlaySession(size=game.size, rule=game.rule, human=choices.side, ai_spec=choices.opponent_spec(),
                          db_path=None)
    session.resume(game)
    window = Window(session, Thinker(lambda wanted: player), choices)
    window.review = review
    window._enter_review(len(review.moves))
    return window
