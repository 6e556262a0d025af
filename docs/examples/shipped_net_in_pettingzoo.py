"""The shipped 15x15 network as an agent in the PettingZoo environment, for one game.

    pip install -e '.[rl]'
    python docs/examples/shipped_net_in_pettingzoo.py                      # its raw policy against random
    python docs/examples/shipped_net_in_pettingzoo.py --opponent heuristic --sims 200

With ``--sims 0`` (the default) the agent is the bare network reading
PettingZoo's observation: ``observation["observation"]`` is exactly the
network's input, so one forward pass and the action mask choose the move,
as any RL library's agent would.  With ``--sims N`` it is azero's player
(PUCT search, N simulations a move), which reads the position from
``env.unwrapped.game``.  The opponent is any player spec (``random``,
``heuristic``, ``pure:N``, ``az:...``).
"""

import argparse

import numpy as np

from azero.env import gomoku_v0
from azero.model.checkpoint import load_checkpoint
from azero.model.evaluator import NetEvaluator
from azero.play.choices import shipped_checkpoint
from azero.players.factory import make_player


def policy_move(evaluator, observation) -> int:
    """The network's favourite legal move: its logits with the illegal points masked out."""
    logits, _ = evaluator(observation["observation"][None])
    return int(np.argmax(np.where(observation["action_mask"] == 1, logits[0], -np.inf)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opponent", default="random", help="the other side: random, heuristic, pure:N, az:PATH")
    parser.add_argument("--sims", type=int, default=0, help="search simulations a move; 0: the raw policy")
    parser.add_argument("--net-plays", choices=["black", "white"], default="black")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    checkpoint = shipped_checkpoint("freestyle", 15)
    env = gomoku_v0.env(size=15, rule="freestyle", n_in_row=5, render_mode="ansi")
    env.reset(seed=args.seed)
    net_agent = f"{args.net_plays}_0"
    game_kind = ("freestyle", 15, 5)
    opponent = make_player(args.opponent, seed=args.seed, game=game_kind)
    if args.sims > 0:
        searcher = make_player(f"az:{checkpoint}:sims={args.sims}", seed=args.seed, game=game_kind)
    else:
        evaluator = NetEvaluator(load_checkpoint(checkpoint)[0])
    game = env.unwrapped.game  # the position, for azero's players (they search from it; nobody plays on it)

    for agent in env.agent_iter():
        observation, _, termination, truncation, _ = env.last()
        if termination or truncation:
            env.step(None)
            continue
        if agent != net_agent:
            move = opponent.choose_moves([game])[0]
        elif args.sims > 0:
            move = searcher.choose_moves([game])[0]
        else:
            move = policy_move(evaluator, observation)
        env.step(move)

    print(env.render())
    print(f"{checkpoint.name} ({net_agent}, {'raw policy' if args.sims == 0 else f'{args.sims} simulations'}) "
          f"against {args.opponent}: {game.result_text()} after {len(game.moves)} moves")
    print(f"moves: {' '.join(game.notation(m) for m in game.moves)}")
    env.close()


if __name__ == "__main__":
    main()
