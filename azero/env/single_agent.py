"""Gomoku against an azero player, as a single-agent Gymnasium environment.

    import gymnasium
    import azero.env.single_agent  # registers azero/GomokuVsPlayer-v0

    env = gymnasium.make("azero/GomokuVsPlayer-v0", opponent="heuristic", size=7, n_in_row=4)
    observation, info = env.reset(seed=0)
    while True:
        action = env.action_space.sample(observation["action_mask"])
        observation, reward, terminated, truncated, info = env.step(action)
        if terminated:
            break

The opponent is any player spec :func:`azero.players.factory.make_player` accepts
and that needs no person: ``random``, ``heuristic``, ``pure:N``,
``az:CHECKPOINT[:sims=N]...`` (a ``.safetensors`` or an exported ``.onnx``
net; it must be trained for the environment's rules and size) or
``pbrain:COMMAND``.  The agent plays ``agent_color`` ("black", "white", or
"random": drawn at each reset); when it plays white, the opponent's first
move is already on the board at reset.

* Observation: a ``Dict`` space with ``observation`` (float32 planes
  ``[6, size, size]``, the network's input, from the agent's point of view)
  and ``action_mask`` (int8, legal points), as in :mod:`azero.env.view`.
  ``gymnasium.utils.env_checker.check_env`` accepts it as is.
* Action: ``Discrete(size*size)``, the point ``y * size + x``.
* Reward: at the end only: +1 win, -1 loss, 0 draw.
* An illegal action (an occupied point, or for black in renju a forbidden
  point: whatever the mask rules out) is refused: the board is left as it
  was, the episode ends (``terminated``) with ``illegal_move_reward``
  (default -1, a loss, as renju scores a forbidden move) and
  ``info["illegal_move"]`` is True.  Mask your policy to avoid it.
* An opponent that cannot move (a ``pbrain`` engine that crashes or times
  out) forfeits: +1, ``info["opponent_forfeit"]`` says why.
* ``info``: ``agent_color``, ``opponent_move`` (the reply just played, or
  None), ``illegal_move``; ``env.unwrapped.game`` is the position.

Seeding: ``reset(seed=s)`` seeds the environment and rebuilds the opponent
with a seed drawn from it (so its tie-breaks, playouts and searches repeat);
an ``az:`` opponent reloads its network then, so seed once, not every episode.
The opponent is first built when the environment is made, so a checkpoint
for other rules or another board size fails there.
"""

from __future__ import annotations

try:
    import gymnasium
except ImportError as error:
    raise ImportError(f"azero.env.single_agent needs Gymnasium ({error}); install it with: pip install -e '.[rl]'") \
        from error

from azero.env.view import RENDER_FPS, RENDER_MODES, BoardPainter, action_space, check_render_mode, observation_space, observe
from azero.players.factory import make_player
from azero.players.forfeit import Forfeit
from azero.players.spec import parse_spec
from games.constants import BLACK, DRAW, WHITE
from games.gomoku import COLOR_NAMES, Gomoku

ENV_ID = "azero/GomokuVsPlayer-v0"
AGENT_COLORS = ("black", "white", "random")
SEED_RANGE = 2**31  # seeds handed to the opponent: what numpy and the search's seeds accept


class GomokuVsPlayer(gymnasium.Env):
    """One side of a Gomoku game, the other played by an azero player; see the module's documentation."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(self, opponent: str = "heuristic", size: int = 15, rule: str = "freestyle", n_in_row: int = 5,
                 agent_color: str = "black", illegal_move_reward: float = -1.0, render_mode: str | None = None,
                 render_pixels: int = 480, device: str = "cpu"):
        check_render_mode(render_mode)
        if agent_color not in AGENT_COLORS:
            raise ValueError(f"agent_color must be one of {', '.join(AGENT_COLORS)}, got {agent_color!r}")
        spec = parse_spec(opponent)  # ValueError naming the accepted specs
        if spec.kind == "human":
            raise ValueError(f"the opponent must be a program, not {opponent!r}: a person cannot be asked for moves")
        self.game = Gomoku(size=size, rule=rule, n_in_row=n_in_row)  # checks size, rule and n_in_row
        self.opponent_spec = spec
        self.agent_color = agent_color
        self.illegal_move_reward = float(illegal_move_reward)
        self.device = device
        self.observation_space = observation_space(self.game.size)
        self.action_space = action_space(self.game.size)
        self.render_mode = render_mode
        self._painter = BoardPainter(self.game.size, render_mode, render_pixels,
                                     caption=f"azero: the agent against {spec.text}")
        self._opponent = None
        # Built now, so that a checkpoint for other rules or another board fails here, not at the first reset.
        self._rebuild_opponent(int(self.np_random.integers(SEED_RANGE)))
        self._color = BLACK
        self._finished = True  # until the first reset

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._rebuild_opponent(int(self.np_random.integers(SEED_RANGE)))
        if self.agent_color == "random":
            self._color = BLACK if self.np_random.integers(2) == 0 else WHITE
        else:
            self._color = BLACK if self.agent_color == "black" else WHITE
        self.game = Gomoku(size=self.game.size, rule=self.game.rule, n_in_row=self.game.n_in_row)
        self._finished = False
        opponent_move = None
        if self._color == WHITE:
            opponent_move = self._opponent_moves()
            if isinstance(opponent_move, Forfeit):
                raise RuntimeError(f"the opponent {self.opponent_spec.text} could not make the first move "
                                   f"({_forfeit_text(opponent_move)})")
        if self.render_mode == "human":
            self.render()
        return observe(self.game, self._color), self._info(opponent_move)

    def step(self, action):
        if self._finished:
            raise RuntimeError("no game in progress; call reset() to start one")
        move = int(action)
        if not self.action_space.contains(move) or not self.game.legal_mask()[move]:
            self._finished = True
            return observe(self.game, self._color), self.illegal_move_reward, True, False, \
                self._info(None, illegal_move=True)
        self.game.play(move)
        opponent_move = None
        if not self.game.is_over:
            opponent_move = self._opponent_moves()
            if isinstance(opponent_move, Forfeit):
                self._finished = True
                info = self._info(None, opponent_forfeit=_forfeit_text(opponent_move))
                return observe(self.game, self._color), 1.0, True, False, info
        self._finished = self.game.is_over
        if self.render_mode == "human":
            self.render()
        return observe(self.game, self._color), self._reward(), self._finished, False, self._info(opponent_move)

    def render(self):
        return self._painter.render(self.game)

    def close(self) -> None:
        if self._opponent is not None:
            self._opponent.close()
            self._opponent = None
        self._painter.close()

    def _rebuild_opponent(self, seed: int) -> None:
        if self._opponent is not None:
            self._opponent.close()
        game = (self.game.rule, self.game.size, self.game.n_in_row)
        self._opponent = make_player(self.opponent_spec, seed=seed, device=self.device, game=game)

    def _opponent_moves(self) -> int | Forfeit:
        move = self._opponent.choose_moves([self.game])[0]
        if not isinstance(move, Forfeit):
            self.game.play(move)
        return move

    def _reward(self) -> float:
        if not self.game.is_over or self.game.winner == DRAW:
            return 0.0
        return 1.0 if self.game.winner == self._color else -1.0

    def _info(self, opponent_move, illegal_move: bool = False, **extra) -> dict:
        move = None if opponent_move is None or isinstance(opponent_move, Forfeit) else int(opponent_move)
        return {"agent_color": COLOR_NAMES[self._color], "opponent_move": move, "illegal_move": illegal_move, **extra}


def _forfeit_text(forfeit: Forfeit) -> str:
    return f"{forfeit.reason}: {forfeit.detail}" if forfeit.detail else forfeit.reason


if ENV_ID not in gymnasium.registry:  # importing the module twice (reload) must not register twice
    gymnasium.register(ENV_ID, entry_point=f"{__name__}:GomokuVsPlayer")
