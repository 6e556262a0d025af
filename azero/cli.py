"""The ``azero`` command.

Subcommands are registered only once they work.  Bad input ends with one
line on stderr (what was wrong, what is accepted) and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from azero import __version__
from games.constants import RULES

EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (what was wrong, where to look), not a usage dump."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _board_size(text: str) -> int:
    from games.coords import check_size

    try:
        return check_size(int(text))
    except ValueError as error:
        if "board size" in str(error):
            raise argparse.ArgumentTypeError(str(error))
        raise argparse.ArgumentTypeError(f"expected a whole number for the board size, got {text!r}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rule", choices=list(RULES), default="freestyle", help="game rules (default: %(default)s)")
    parser.add_argument("--n-in-row", type=int, default=5, help="stones in a row to win (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="azero",
        description="AlphaZero for Gomoku: a fast rules engine, and (as it lands) training, play and an arena.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"azero {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="watch two heuristic bots play one game",
        description="Two threat-aware heuristic bots (no network yet) play one game from the centre; the final "
        "board is printed: X black, O white, lower case the last move, '#' black's forbidden points in renju.",
    )
    demo.add_argument("--size", type=_board_size, default=15, help="board size, 5 to 20 (default: %(default)s)")
    _add_rule_options(demo)
    demo.add_argument("--seed", type=int, default=None, help="seed for the bots' tie-breaks, for a repeatable game (default: random)")
    demo.add_argument("--save", metavar="FILE", help="also save the game as a .psq or .sgf record")
    demo.set_defaults(handler=run_demo)

    show = commands.add_parser(
        "show",
        help="print a PSQ or SGF game record",
        description="Read a game record (.psq or .sgf), check every move, and print the final board and moves. "
        "--rule and --n-in-row apply to PSQ files, which carry no rule; SGF files name their own.",
    )
    show.add_argument("file", help="the record to show")
    _add_rule_options(show)
    show.set_defaults(handler=run_show)

    train = commands.add_parser(
        "train",
        help="train a network from zero by self-play (resumable)",
        description="Self-play reinforcement learning from zero knowledge. Self-play worker processes play with the "
        "latest network and write games to RUN/shards; the learner trains on a sliding window of them and writes "
        "checkpoints, metrics (CSV and TensorBoard) and a progress plot to RUN. Stop it at any time (Ctrl-C); "
        "the same command resumes. Any setting can be changed with SECTION.KEY=VALUE (see --print-config).",
    )
    train.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE",
                       help="change one setting of the preset, for example selfplay.simulations=100")
    train.add_argument("--preset", default="gomoku9", help="the recipe to start from (default: %(default)s; see --list-presets)")
    train.add_argument("--run", metavar="DIR", help="run folder (default: runs/PRESET)")
    train.add_argument("--minutes", type=_positive_float, help="stop after this many minutes (train.max_minutes)")
    train.add_argument("--steps", type=int, help="stop after this many training steps in total (train.max_steps)")
    train.add_argument("--workers", type=int, help="self-play processes (selfplay.workers; default one per core)")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (train.device; default auto)")
    train.add_argument("--print-config", action="store_true", help="print the full configuration and exit")
    train.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    train.add_argument("--no-progress", action="store_true", help="no live status line (for logs)")
    train.set_defaults(handler=run_train)

    bench = commands.add_parser(
        "bench",
        help="measure speed",
        description="Measure how fast azero runs on this machine for a preset: engine moves/s, search simulations/s "
        "with a free evaluator, network evaluations/s at the self-play batch size, self-play evaluations/s while "
        "really playing, their ratio, games and positions per hour, and a one-leaf-at-a-time Python MCTS baseline "
        "with the same network. 'azero bench engine' measures the rules engine alone.",
    )
    bench.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="change a setting of the preset, for example --set selfplay.games_per_worker=256 (repeatable)")
    bench.add_argument("--preset", default="gomoku9", help="the recipe whose net and search are measured (default: %(default)s)")
    bench.add_argument("--seconds", type=_positive_float, default=20.0, help="time per measurement (default: %(default)s)")
    bench.add_argument("--workers", type=int, help="self-play processes (default: the preset's, one per core)")
    bench.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: %(default)s)")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    bench.set_defaults(handler=run_bench)
    targets = bench.add_subparsers(dest="target", metavar="TARGET")
    engine = targets.add_parser(
        "engine",
        help="rules engine: random playouts and renju forbidden masks",
        description="Random-playout speed for each rule and renju forbidden-mask speed, on one core.",
    )
    engine.add_argument("--size", type=_board_size, default=15, help="board size (default: %(default)s)")
    engine.add_argument(
        "--seconds", type=_positive_float, default=2.0, help="time per measurement (default: %(default)s)"
    )
    engine.add_argument("--stones", type=int, default=40, help="stones in the renju mask positions (default: %(default)s)")
    engine.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    engine.set_defaults(handler=run_bench_engine)
    return parser


def run_demo(args: argparse.Namespace) -> None:
    import numpy as np

    from azero.heuristic import heuristic_move
    from games.gomoku import Gomoku
    from games.records import GameRecord, save_record

    game = Gomoku(size=args.size, rule=args.rule, n_in_row=args.n_in_row)
    rng = np.random.default_rng(args.seed)
    game.play(game.size // 2 * (game.size + 1))  # the first stone on the centre, as people open
    while not game.is_over:
        game.play(heuristic_move(game, rng))
    print(game.render())
    print()
    print(f"{game.rule}, {game.size}x{game.size}: {game.result_text()} after {len(game.moves)} moves")
    print("moves: " + " ".join(game.notation(m) for m in game.moves))
    if args.save is not None:
        save_record(GameRecord.from_game(game, black="heuristic", white="heuristic"), args.save)
        print(f"saved to {args.save}")


def run_show(args: argparse.Namespace) -> None:
    from games.records import load_record

    record = load_record(args.file, rule=args.rule, n_in_row=args.n_in_row)
    game = record.to_game()
    print(game.render())
    print()
    players = f" ({record.black or '?'} vs {record.white or '?'})" if record.black or record.white else ""
    print(f"{game.rule}, {game.size}x{game.size}{players}: {game.result_text()} after {len(game.moves)} moves")
    print("moves: " + " ".join(game.notation(m) for m in game.moves))


def run_bench_engine(args: argparse.Namespace) -> None:
    from azero.bench_engine import engine_benchmark, format_report

    if not 0 <= args.stones <= args.size * args.size // 2:
        raise CommandError(f"--stones must be from 0 to half the board ({args.size * args.size // 2}), got {args.stones}")

    def progress(message: str) -> None:
        if not args.json:
            print(f"measuring {message} ...", file=sys.stderr, flush=True)

    report = engine_benchmark(size=args.size, seconds=args.seconds, stones=args.stones, progress=progress)
    print(json.dumps(report) if args.json else format_report(report))


def run_train(args: argparse.Namespace) -> None:
    from pathlib import Path

    from azero.config import available_presets, build_config

    if args.list_presets:
        from azero.config import load_preset

        for name in available_presets():
            print(f"{name:12s} {load_preset(name).description}")
        return
    overrides = list(args.overrides)
    for flag, key in ((args.minutes, "train.max_minutes"), (args.steps, "train.max_steps"),
                      (args.workers, "selfplay.workers"), (args.device, "train.device")):
        if flag is not None:
            overrides.append(f"{key}={flag!r}" if not isinstance(flag, str) else f'{key}="{flag}"')
    config = build_config(args.preset, overrides)
    if args.print_config:
        print(config.to_toml(), end="")
        return
    from azero.network import pick_device
    from azero.train import default_workers, train

    device = pick_device(config.train.device)
    run_dir = Path(args.run) if args.run else Path("runs") / config.preset
    print(config.to_toml(), file=sys.stderr)
    print(f"run folder {run_dir} | learner on {device} | {default_workers(config)} self-play workers | Ctrl-C stops "
          f"(the same command resumes)", file=sys.stderr, flush=True)
    train(config, run_dir, progress=not args.no_progress)


def run_bench(args: argparse.Namespace) -> None:
    from azero.bench import format_report, selfplay_benchmark
    from azero.config import build_config

    overrides = list(args.overrides)
    if args.workers is not None:
        overrides.append(f"selfplay.workers={args.workers}")
    config = build_config(args.preset, overrides)

    def progress(message: str) -> None:
        if not args.json:
            print(f"measuring {message} ...", file=sys.stderr, flush=True)

    report = selfplay_benchmark(config, seconds=args.seconds, device=args.device, progress=progress)
    print(json.dumps(report) if args.json else format_report(report))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (CommandError, ValueError, OSError) as error:
        print(f"azero {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("azero: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
