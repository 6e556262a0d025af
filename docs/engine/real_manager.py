"""Check pbrain-azero under a real tournament manager: c-gomoku-cli, built here from a copy you give.

c-gomoku-cli (https://github.com/nkg114mc/c-gomoku-cli) is an open-source
Gomocup tournament manager for Linux.  This script

1. builds it from ``--source`` (a git URL to clone, or a folder holding its
   ``src/Makefile``), or takes a built ``--manager`` binary;
2. times the engine's first answers the way a manager meets them (ABOUT,
   START, the first move) in a fresh process;
3. plays ``--games`` games of ``pbrain-azero --checkpoint ...`` against
   ``--opponent`` (``self``: the same engine; ``heuristic``: ``pbrain-azero
   --player heuristic``) under a match clock (``--tc``, c-gomoku-cli's
   ``match/turn`` seconds), with the manager's log on, and watches the
   engines' resident memory from /proc;
4. reads the manager's output and log: time losses, crashes, illegal moves,
   ERROR answers, and from the ``INFO time_left`` lines the clock each move
   was charged, and prints a summary (JSON on the last line).

Exit status 0 when nothing went wrong (no time loss, crash, illegal move or
ERROR), 1 otherwise, 2 for bad arguments or a failed build.

Example::

    python docs/engine/real_manager.py --source https://github.com/nkg114mc/c-gomoku-cli \\
        --checkpoint checkpoints/gomoku15.safetensors --games 4 --tc 60/5 --work /tmp/manager

No network here?  Clone it elsewhere and pass the folder.  tests/test_real_manager.py runs a short version
when AZERO_C_GOMOKU_CLI names a built binary, and skips otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

# Newer g++ needs these to build c-gomoku-cli's sources as they are: util.cpp uses strerror/strlen without
# <cstring>, and engine.cpp passes a const char** to execvp.
BUILD_DEFINES = "-fpermissive -include cstring"
DEFAULT_MAX_MEMORY = 367001600  # 350 MiB: what c-gomoku-cli (and Gomocup) send when not told otherwise


def openings() -> list[str]:
    """Openings in c-gomoku-cli's offset notation (from the centre), each played twice with colours swapped
    (-repeat) so that the engines' own determinism does not replay one game: black in the centre, white within
    two lines (the 8 symmetries of a start give the same game, so one of each), then the same with a third stone.
    """
    whites = [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]  # one of each class under the board's symmetries
    thirds = [(0, 1), (-1, 1), (1, -1), (0, 2), (-1, 0), (-2, 1), (1, 2), (-1, -1)]
    two = [f"0,0, {x},{y}" for x, y in whites]
    three = [f"0,0, {x},{y}, {a},{b}" for x, y in whites for a, b in thirds if (a, b) != (x, y)]
    return two + three

PROBLEMS = re.compile(r"engine .*(timeout|crashed|illegal|output error|unresponsive|exited before)|time forfeit",
                      re.IGNORECASE)
FINISHED = re.compile(r"Finished game (\d+) \((.+) vs (.+)\): (\S+) \{(.*)\}")
SIMULATIONS = re.compile(r"MESSAGE azero: (\d+) simulations in ([\d.]+) s \(ordinary ([\d.]+) s, "
                         r"limit ([\d.]+) s(?:, stopped: ([^)]+))?\)")


def build_manager(source: str, work: Path) -> Path:
    """The c-gomoku-cli binary built from ``source`` (a git URL or a folder) under ``work``."""
    tree = work / "c-gomoku-cli"
    if tree.exists():
        shutil.rmtree(tree)
    if Path(source).is_dir():
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".git", "obj", "c-gomoku-cli"))
    else:
        subprocess.run(["git", "clone", "--depth", "1", source, str(tree)], check=True)
    jobs = str(max(1, min(4, os.cpu_count() or 1)))
    subprocess.run(["make", "-C", str(tree / "src"), "-j", jobs, f"DEFINES={BUILD_DEFINES}"], check=True,
                   stdout=subprocess.DEVNULL)
    binary = tree / "src" / "c-gomoku-cli"
    if not binary.is_file():
        raise RuntimeError(f"the build left no {binary}")
    return binary


def first_answers(engine: list[str], size: int) -> dict[str, float]:
    """Seconds a fresh engine takes to answer ABOUT (from its launch), START and its first move."""
    started = time.perf_counter()
    process = subprocess.Popen(engine, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def ask(line: str) -> float:
        sent = time.perf_counter()
        process.stdin.write(f"{line}\n".encode())
        process.stdin.flush()
        while True:
            answer = process.stdout.readline().decode().strip()
            if not answer or not answer.startswith(("MESSAGE", "DEBUG")):
                break
        return time.perf_counter() - sent

    try:
        timings = {"about_from_launch_s": 0.0}
        ask("ABOUT")
        timings["about_from_launch_s"] = time.perf_counter() - started
        timings["start_s"] = ask(f"START {size}")
        process.stdin.write(b"INFO timeout_turn 5000\nINFO timeout_match 60000\nINFO time_left 60000\n")
        timings["first_move_s"] = ask("BEGIN")
        process.stdin.write(b"END\n")
        process.stdin.flush()
        process.wait(timeout=30)
    finally:
        process.kill()
    return {key: round(value, 3) for key, value in timings.items()}


class MemoryWatch:
    """Polls /proc for the engines' processes (found by their command lines): each one's largest VmRSS seen and
    its peak VmHWM (the kernel's high-water mark, which also catches what a poll misses)."""

    def __init__(self, markers: dict[str, str], every_s: float = 0.5):
        self.markers = markers  # engine name -> a piece of its command line
        self.peak_mib: dict[str, float] = defaultdict(float)
        self.largest_seen_mib: dict[str, float] = defaultdict(float)
        self._stop = threading.Event()
        self._every_s = every_s
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self._every_s):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue  # gone meanwhile
                for name, marker in self.markers.items():
                    if marker in command and "real_manager" not in command and "c-gomoku-cli" not in command:
                        peak = re.search(r"VmHWM:\s+(\d+) kB", status)
                        now = re.search(r"VmRSS:\s+(\d+) kB", status)
                        if peak and now:
                            self.peak_mib[name] = max(self.peak_mib[name], int(peak.group(1)) / 1024)
                            self.largest_seen_mib[name] = max(self.largest_seen_mib[name], int(now.group(1)) / 1024)


def clock_usage(log_text: str, engine: str, match_s: float) -> dict:
    """The clock each of ``engine``'s moves was charged, from the manager's INFO time_left lines, per move number.

    The manager sends ``INFO time_left`` before each move; the drop from one
    to the next is what the move before cost (thinking, overheads, pipes).
    A game starts at START; a game's last move has no next time_left and is
    left out.
    """
    games: list[list[int]] = []
    searches: list[tuple[int, float, float, float, str]] = []
    for line in log_text.splitlines():
        if line.startswith(f"{engine} <- START"):
            games.append([])
        elif line.startswith(f"{engine} <- INFO time_left ") and games:
            games[-1].append(int(line.rsplit(" ", 1)[1]))
        elif line.startswith(f"{engine} -> MESSAGE azero:"):
            match = SIMULATIONS.search(line)
            if match:
                simulations, thought, ordinary, limit, reason = match.groups()
                searches.append((int(simulations), float(thought), float(ordinary), float(limit), reason or ""))
    per_move: dict[int, list[float]] = defaultdict(list)
    left_at_end = []
    for lefts in games:
        for number, (before, after) in enumerate(itertools.pairwise(lefts), start=1):
            per_move[number].append((before - after) / 1000)
        if lefts:
            left_at_end.append(lefts[-1] / 1000 / match_s)
    reasons: dict[str, int] = defaultdict(int)
    for *_, reason in searches:
        reasons[reason] += 1
    return {
        "games": len(games),
        "per_move": {n: {"mean_s": round(sum(v) / len(v), 2), "max_s": round(max(v), 2), "moves": len(v)}
                     for n, v in sorted(per_move.items())},
        "max_move_s": round(max((max(v) for v in per_move.values()), default=0.0), 2),
        "clock_left_at_last_move": [round(x, 2) for x in left_at_end],
        "stop_reasons": dict(reasons),
        "simulations_mean": round(sum(s[0] for s in searches) / len(searches)) if searches else 0,
    }


def check_output(stdout: str) -> dict:
    """Problems the manager reported, and the games' results."""
    problems = [line for line in stdout.splitlines() if PROBLEMS.search(line)]
    results = [match.groups() for match in map(FINISHED.search, stdout.splitlines()) if match]
    return {"problems": problems, "results": [f"{black} vs {white}: {result} {{{reason}}}"
                                              for _, black, white, result, reason in results]}


def play(manager: Path, work: Path, engine: list[str], opponent: list[str], size: int, rule: int, games: int,
         tc: str, max_memory: int) -> dict:
    """Run the match; the manager's output checked and the clock usage of both engines."""
    opening_file = work / "openings.txt"
    opening_file.write_text("\n".join(openings()) + "\n")
    for stale in work.glob("c-gomoku-cli.*.log"):
        stale.unlink()
    match_s = float(tc.split("/")[0])
    command = [str(manager), "-each", f"tc={tc}", f"maxmemory={max_memory}",
               "-engine", "name=azero", "cmd=" + " ".join(engine),
               "-engine", "name=opponent", "cmd=" + " ".join(opponent),
               "-rule", str(rule), "-boardsize", str(size), "-games", str(games), "-repeat",
               "-openings", f"file={opening_file}", "order=sequential", "-log", "-msg", str(work / "messages.txt"),
               "-sgf", str(work / "games.sgf")]
    # c-gomoku-cli starts "./python" from python's folder: match the arguments, which stay as given.
    markers = {"azero": " ".join(engine[1:]), "opponent": " ".join(opponent[1:])}
    with MemoryWatch(markers) as memory:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)  # its status is read
    log_text = "".join(path.read_text(errors="replace") for path in sorted(work.glob("c-gomoku-cli.*.log")))
    errors = [line for line in log_text.splitlines() if " -> ERROR" in line]
    summary = check_output(done.stdout)
    summary.update({
        "manager_status": done.returncode,
        "engine_errors": errors,
        "score": [line for line in done.stdout.splitlines() if line.startswith("Score of")][-1:],
        "peak_rss_mib": {name: round(mib, 1) for name, mib in memory.peak_mib.items()},
        "largest_rss_seen_mib": {name: round(mib, 1) for name, mib in memory.largest_seen_mib.items()},
        "max_memory_mib": round(max_memory / 2**20, 1),
        "clock": {name: clock_usage(log_text, name, match_s) for name in ("azero", "opponent")},
    })
    return summary


def engine_command(python: str, checkpoint: str | None, player: str | None) -> list[str]:
    """pbrain-azero as a manager runs it: absolute paths (c-gomoku-cli changes into the command's folder)."""
    command = [str(Path(python).absolute()), "-m", "azero.pbrain"]
    if checkpoint:
        return command + ["--checkpoint", str(Path(checkpoint).resolve())]
    return command + ["--player", player]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--source", help="c-gomoku-cli's git URL, or a folder with its sources, to build")
    where.add_argument("--manager", help="a c-gomoku-cli binary built already")
    parser.add_argument("--work", default="/tmp/azero-real-manager", help="where to build and play")
    parser.add_argument("--checkpoint", default="checkpoints/gomoku15.safetensors")
    parser.add_argument("--opponent", choices=("self", "heuristic"), default="heuristic")
    parser.add_argument("--opponent-cmd", metavar="COMMAND",
                        help="any other pbrain engine's command line (absolute paths), instead of --opponent: "
                             "an older azero, to compare time managers")
    parser.add_argument("--size", type=int, default=15)
    parser.add_argument("--rule", type=int, default=0, help="Gomocup rule code: 0 freestyle, 1 standard, 4 renju")
    parser.add_argument("--games", type=int, default=2, help="games (an even number: each opening both ways)")
    parser.add_argument("--tc", default="60/5", help="c-gomoku-cli time control: match/turn seconds")
    parser.add_argument("--max-memory", type=int, default=DEFAULT_MAX_MEMORY, help="bytes (INFO max_memory)")
    parser.add_argument("--python", default=sys.executable, help="the Python whose azero is tested")
    args = parser.parse_args(argv)
    work = Path(args.work).absolute()
    work.mkdir(parents=True, exist_ok=True)
    try:
        manager = Path(args.manager) if args.manager else build_manager(args.source, work)
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        print(f"cannot build c-gomoku-cli: {error}", file=sys.stderr)
        return 2
    engine = engine_command(args.python, args.checkpoint, None)
    if args.opponent_cmd:
        opponent = args.opponent_cmd.split()
    else:
        opponent = engine if args.opponent == "self" else engine_command(args.python, None, "heuristic")
    summary = {"first_answers": first_answers(engine, args.size)}
    summary.update(play(manager.absolute(), work, engine, opponent, args.size, args.rule, args.games, args.tc,
                        args.max_memory))
    for key in ("first_answers", "results", "score", "problems", "engine_errors", "peak_rss_mib"):
        print(f"{key}: {summary[key]}")
    usage = summary["clock"]["azero"]
    print("azero's clock, per move number (seconds charged by the manager): "
          + ", ".join(f"{n}: {v['mean_s']} (max {v['max_s']})" for n, v in usage["per_move"].items()))
    print(json.dumps(summary))
    failed = summary["problems"] or summary["engine_errors"] or summary["manager_status"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
