"""Openings for c-gomoku-cli that a checkpoint itself judges balanced, for matches between two clocks of one net.

When both engines play the same network, an opening the network wins by
force for one side decides both games of its pair whatever the clocks do
(from ``real_manager.openings()`` black won 81 of 98 decided 15x15 games),
so the pair says nothing about the clocks.  This script makes random
openings near the centre (``azero.search.openings.random_opening``), searches
each with the checkpoint (``--simulations``, a hundred at once in one
batched search), and keeps the ``--count`` whose side to move scores
closest to even (0.5) by the search's root value.  (With the shipped
``gomoku15`` no 3-stone opening is even: its search gives white 0.2-0.4 in
all of 600, so the kept ones are the least lopsided.)  The search is
deterministic, so a seed gives the same file.

It writes one opening a line in c-gomoku-cli's offset notation (``x,y``
from the centre, x to the right, y down), ready for ``-openings file=...``,
and prints how many candidates it searched and how the kept ones score.

Example::

    python docs/engine/net_balanced_openings.py --checkpoint checkpoints/gomoku15.safetensors \\
        --count 60 --out /tmp/balanced15.txt
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def offsets(moves: list[int], size: int) -> str:
    """Moves as c-gomoku-cli writes an opening: ``dx,dy`` from the centre, comma-separated."""
    centre = size // 2
    return ", ".join(f"{move % size - centre},{move // size - centre}" for move in moves)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="checkpoints/gomoku15.safetensors")
    parser.add_argument("--rule", default="freestyle", choices=("freestyle", "standard", "renju"))
    parser.add_argument("--size", type=int, default=15)
    parser.add_argument("--stones", type=int, default=3, help="stones in an opening")
    parser.add_argument("--count", type=int, default=50, help="openings to keep")
    parser.add_argument("--candidates", type=int, default=600, help="random openings to search")
    parser.add_argument("--simulations", type=int, default=200, help="search per candidate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the openings file to write")
    args = parser.parse_args(argv)
    if not 0 < args.count <= args.candidates:
        parser.error("--count needs 0 < count <= candidates")

    import torch

    from azero.players.network import net_player
    from azero.search.openings import random_opening
    from games.constants import ONGOING

    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    candidates, seen = [], set()
    for _ in range(args.candidates * 20):
        if len(candidates) == args.candidates:
            break
        game = random_opening(args.size, args.rule, 5, args.stones, rng)
        if game.winner == ONGOING and tuple(game.moves) not in seen:
            seen.add(tuple(game.moves))
            candidates.append(game)
    player = net_player(args.checkpoint, args.simulations, game=(args.rule, args.size, 5))
    scores: list[float] = []
    for start in range(0, len(candidates), 100):  # a hundred trees at a time keeps memory small
        player.choose_moves(candidates[start:start + 100])
        scores.extend((1 + float(v)) / 2 for v in player.last_values)
    player.close()
    closest = sorted(range(len(candidates)), key=lambda i: abs(scores[i] - 0.5))[:args.count]
    kept = [(candidates[i], scores[i]) for i in sorted(closest)]  # in the order they were made
    with open(args.out, "w", encoding="ascii") as out:
        for game, _ in kept:
            out.write(offsets(game.moves, args.size) + "\n")
    histogram = np.histogram(scores, bins=10, range=(0, 1))[0]
    print(f"searched {len(candidates)} openings of {args.stones} stones, {args.simulations} simulations each; "
          f"side-to-move scores by tenths: {histogram.tolist()}")
    kept_scores = [score for _, score in kept]
    print(f"kept the {len(kept)} closest to even: side to move scores {min(kept_scores):.3f} to "
          f"{max(kept_scores):.3f}, mean {np.mean(kept_scores):.3f}, in {args.out}")
    return 0 if len(kept) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
