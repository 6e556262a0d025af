"""Gomoku as a PettingZoo AEC environment, shaped like PettingZoo's classic games (Go, Connect Four).

    from azero.env import gomoku_v0

    env = gomoku_v0.env(size=15, rule="freestyle", n_in_row=5, render_mode=None)
    env.reset(seed=0)
    for agent in env.agent_iter():
        observation, reward, termination, truncation, info = env.last()
        action = None if termination or truncation else env.action_space(agent).sample(observation["action_mask"])
        env.step(action)

| | |
|---|---|
| Agents | ``black_0`` (moves first), ``white_0`` |
| Actions | ``Discrete(size*size)``: the point ``y * size + x`` |
| Observation | ``{"observation": float32 [6, size, size], "action_mask": int8 [size*size]}`` (:mod:`azero.env.view`) |
| Rewards | +1 to the side that makes the row, -1 to the other, 0 each for a draw; nothing before the end |
| Termination | a winning row or a draw (full board; renju: black left with only forbidden points) |
| Truncation | never (a game ends by itself within size*size moves) |
| Render modes | ``human`` (a pygame window), ``rgb_array`` (``[H, W, 3]`` uint8), ``ansi`` (text) |

Rules: ``freestyle`` (five or more wins), ``standard`` (exactly five) or
``renju`` (black's overlines, double fours and double threes are forbidden:
masked out of black's ``action_mask``); ``n_in_row`` from 3 to the board size
(5 for renju).  Everything about the rules comes from
:class:`games.gomoku.Gomoku`; ``env.unwrapped.game`` is that game (read it,
do not play on it).

As in the classic suite, :func:`env` wraps :class:`raw_env` so that an
illegal move (one the mask rules out) ends the game with -1 for the side
that made it and 0 for the other, an action outside the board is an
assertion error, and calls out of order are errors.  :class:`raw_env` alone
raises ValueError for an illegal move.  The game has no chance in it:
``reset(seed=...)`` seeds the action spaces, so that sampling from them
after a seeded reset plays the same moves every time.
"""

from __future__ import annotations

try:
    from gymnasium.utils import EzPickle
    from pettingzoo import AECEnv
    from pettingzoo.utils import wrappers
    from pettingzoo.utils.agent_selector import AgentSelector
except ImportError as error:
    raise ImportError(f"azero.env.gomoku_v0 needs PettingZoo and Gymnasium ({error}); "
                      "install them with: pip install -e '.[rl]'") from error

from azero.env.view import RENDER_FPS, RENDER_MODES, BoardPainter, action_space, check_render_mode, observation_space, observe
from games.constants import BLACK, DRAW, WHITE
from games.gomoku import Gomoku

AGENT_COLORS = {"black_0": BLACK, "white_0": WHITE}


def env(**kwargs) -> AECEnv:
    """The environment with the classic suite's wrappers (illegal move = loss, bounds checked, order enforced)."""
    game_env = raw_env(**kwargs)
    game_env = wrappers.TerminateIllegalWrapper(game_env, illegal_reward=-1)
    game_env = wrappers.AssertOutOfBoundsWrapper(game_env)
    return wrappers.OrderEnforcingWrapper(game_env)


class raw_env(AECEnv, EzPickle):
    """Gomoku between ``black_0`` and ``white_0`` on the numba engine; see the module's documentation."""

    metadata = {
        "render_modes": list(RENDER_MODES),
        "name": "gomoku_v0",
        "is_parallelizable": False,
        "render_fps": RENDER_FPS,
    }

    def __init__(self, size: int = 15, rule: str = "freestyle", n_in_row: int = 5, render_mode: str | None = None,
                 render_pixels: int = 480):
        EzPickle.__init__(self, size, rule, n_in_row, render_mode, render_pixels)
        super().__init__()
        check_render_mode(render_mode)
        self.game = Gomoku(size=size, rule=rule, n_in_row=n_in_row)  # checks size, rule and n_in_row
        self.possible_agents = list(AGENT_COLORS)
        self.agents = self.possible_agents[:]
        # One space object per agent for the life of the environment: seeding a space must stick.
        self.observation_spaces = {agent: observation_space(self.game.size) for agent in self.possible_agents}
        self.action_spaces = {agent: action_space(self.game.size) for agent in self.possible_agents}
        self.render_mode = render_mode
        self._painter = BoardPainter(self.game.size, render_mode, render_pixels, caption=f"gomoku_v0 {self.game.rule}")
        self._agent_selector = AgentSelector(self.agents)

    def observation_space(self, agent: str):
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        return self.action_spaces[agent]

    def observe(self, agent: str) -> dict:
        return observe(self.game, AGENT_COLORS[agent])

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            for offset, agent in enumerate(self.possible_agents):
                self.action_spaces[agent].seed(seed + offset)
        self.game = Gomoku(size=self.game.size, rule=self.game.rule, n_in_row=self.game.n_in_row)
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: {} for agent in self.agents}
        self._agent_selector.reinit(self.agents)
        self.agent_selection = self._agent_selector.reset()
        if self.render_mode == "human":
            self.render()

    def step(self, action) -> None:
        if self.terminations[self.agent_selection] or self.truncations[self.agent_selection]:
            return self._was_dead_step(action)
        self.game.play(int(action))  # ValueError, saying why, for an illegal move (env() stops those first)
        if self.game.is_over:
            if self.game.winner != DRAW:
                for agent, color in AGENT_COLORS.items():
                    self.rewards[agent] = 1 if color == self.game.winner else -1
            self.terminations = dict.fromkeys(self.agents, True)
            self._accumulate_rewards()
        self.agent_selection = self._agent_selector.next()
        if self.render_mode == "human":
            self.render()

    def render(self):
        return self._painter.render(self.game)

    def close(self) -> None:
        self._painter.close()
