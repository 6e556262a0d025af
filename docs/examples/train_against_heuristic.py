"""A tiny agent learns to beat azero's heuristic bot, through the Gymnasium environment, in about a minute.

    pip install -e '.[rl]'
    python docs/examples/train_against_heuristic.py              # 60 seconds of training
    python docs/examples/train_against_heuristic.py --seconds 20

The agent is a table: for each position it has seen (keyed by the own- and
opponent-stone planes of the observation) the mean final reward of each
move it tried there, and it picks moves by that mean plus an exploration
bonus for moves tried less (UCB1), masked to the legal ones.  It plays black
on 7x7 with three in a row to win: a first-player win that a table can find
in a minute.  At four or five in a row the heuristic blocks every threat a
learner without lookahead makes, and a minute of tables or a small policy
net does not beat it; there you want a network with search (``azero train``).
"""

import argparse
import time
from collections import defaultdict

import gymnasium
import numpy as np

import azero.env.single_agent  # noqa: F401  (registers azero/GomokuVsPlayer-v0)

SIZE, N_IN_ROW = 7, 3
EXPLORATION = 2.0  # the UCB1 constant: rewards lie in [-1, 1], so an untried move looks better than any tried one


class TabularAgent:
    def __init__(self, points: int, seed: int = 0):
        self.value = defaultdict(lambda: np.zeros(points))  # mean final reward of each move in a position
        self.tries = defaultdict(lambda: np.zeros(points))
        self.rng = np.random.default_rng(seed)

    def act(self, observation, explore: bool) -> tuple[bytes, int]:
        key = observation["observation"][:2].tobytes()  # own stones, opponent's stones
        score = self.value[key] + self.rng.random(self.value[key].size) * 1e-6  # random tie-break
        if explore:
            score = score + EXPLORATION * np.sqrt(np.log(self.tries[key].sum() + 1) / (self.tries[key] + 1e-9))
        return key, int(np.argmax(np.where(observation["action_mask"] == 1, score, -np.inf)))

    def learn(self, visited: list[tuple[bytes, int]], reward: float) -> None:
        for key, move in visited:  # Monte-Carlo: every move of the game gets the game's result
            self.tries[key][move] += 1
            self.value[key][move] += (reward - self.value[key][move]) / self.tries[key][move]


def play_game(env, agent: TabularAgent, explore: bool) -> float:
    observation, _ = env.reset()
    visited, finished = [], False
    while not finished:
        key, move = agent.act(observation, explore)
        visited.append((key, move))
        observation, reward, finished, _, _ = env.step(move)
    if explore:
        agent.learn(visited, reward)
    return reward


def win_rate(env, agent: TabularAgent, games: int) -> float:
    return float(np.mean([play_game(env, agent, explore=False) > 0 for _ in range(games)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training time (default: %(default)s)")
    parser.add_argument("--eval-games", type=int, default=200, help="games to measure the win rate (default: %(default)s)")
    args = parser.parse_args()

    env = gymnasium.make("azero/GomokuVsPlayer-v0", opponent="heuristic", size=SIZE, n_in_row=N_IN_ROW,
                         agent_color="black")
    env.reset(seed=0)
    agent = TabularAgent(SIZE * SIZE)
    print(f"{SIZE}x{SIZE}, {N_IN_ROW} in a row, the agent plays black against heuristic")
    print(f"win rate before training: {win_rate(env, agent, args.eval_games):.0%}")
    games, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        play_game(env, agent, explore=True)
        games += 1
    print(f"trained on {games:,} games in {time.perf_counter() - start:.0f} s ({len(agent.value):,} positions seen)")
    print(f"win rate after training:  {win_rate(env, agent, args.eval_games):.0%}")
    env.close()


if __name__ == "__main__":
    main()
