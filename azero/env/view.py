"""What an agent of the RL environments sees, and how they draw a position.

The observation is a dict, as in PettingZoo's classic games:

* ``observation``: the network's input planes (:mod:`azero.model.planes`), float32
  ``[NUM_PLANES, size, size]`` (channels first, as the network reads them),
  from the observing side's point of view: own stones, the opponent's, the
  last move, "black to move" (all ones when the observer is black), black's
  forbidden points (renju, black observer only) and the board.  For the side
  to move it is exactly what an azero network is given in that position.
* ``action_mask``: int8 ``[size*size]``, 1 where the observer may play now:
  the engine's legal moves (:meth:`games.gomoku.Gomoku.legal_mask`, so renju's
  forbidden points are masked for black); all zeros when it is not the
  observer's turn or the game is over.

Actions are point indices ``y * size + x``, ``0 .. size*size - 1``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import logger, spaces

from azero.model.planes import NUM_PLANES, encode
from games.constants import BLACK, RENJU
from games.gomoku import Gomoku
from games.renju import forbidden_mask

RENDER_MODES = ("human", "rgb_array", "ansi")
RENDER_FPS = 2  # the "human" window shows a game at about two moves a second, as the classic suite's boards do


def observation_space(size: int) -> spaces.Dict:
    return spaces.Dict({
        "observation": spaces.Box(low=0.0, high=1.0, shape=(NUM_PLANES, size, size), dtype=np.float32),
        "action_mask": spaces.Box(low=0, high=1, shape=(size * size,), dtype=np.int8),
    })


def action_space(size: int) -> spaces.Discrete:
    return spaces.Discrete(size * size)


def observe(game: Gomoku, color: int) -> dict[str, np.ndarray]:
    """The observation of the side playing ``color`` (1 black, 2 white), whether or not it is to move."""
    planes = encode(game.board, game.size, color, game.last_move, _forbidden_to(game, color))
    if color == game.to_move:
        mask = game.legal_mask().astype(np.int8)  # all zeros once the game is over
    else:
        mask = np.zeros(game.size * game.size, dtype=np.int8)
    return {"observation": planes, "action_mask": mask}


def _forbidden_to(game: Gomoku, color: int) -> np.ndarray | None:
    """Black's forbidden points for a black observer in renju; None (no plane) otherwise.

    Asked of the engine even when white is to move, so black's planes read
    the same whoever's turn it is.
    """
    if color != BLACK or game.rule_code != RENJU or game.is_over:
        return None
    return forbidden_mask(game.board, game.size)


def check_render_mode(render_mode: str | None) -> None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {', '.join(RENDER_MODES)}, got {render_mode!r}")


class BoardPainter:
    """``render()`` for the environments, through the window's own drawing (:func:`azero.play.board_view.draw_board`).

    ``ansi``: the engine's text board; ``rgb_array``: an ``[H, W, 3]`` uint8
    picture; ``human``: a pygame window, updated on every call.
    """

    def __init__(self, size: int, render_mode: str | None, pixels: int = 480, caption: str = "azero gomoku"):
        check_render_mode(render_mode)
        from azero.play.board_view import BoardGeometry

        self.render_mode = render_mode
        self.geometry = BoardGeometry.fit(size, pixels)
        self.caption = caption
        self._surface = None
        self._clock = None

    def render(self, game: Gomoku):
        if self.render_mode is None:
            logger.warn("render() was called without a render_mode; make the environment with render_mode='human', "
                        "'rgb_array' or 'ansi'")
            return None
        if self.render_mode == "ansi":
            return game.render()
        import pygame

        from azero.play.board_view import draw_board

        if self._surface is None:
            pygame.font.init()
            side = (self.geometry.pixels, self.geometry.pixels)
            if self.render_mode == "human":
                pygame.display.init()
                self._surface = pygame.display.set_mode(side)
                pygame.display.set_caption(self.caption)
                self._clock = pygame.time.Clock()
            else:
                self._surface = pygame.Surface(side)
        draw_board(self._surface, self.geometry, game)
        if self.render_mode == "human":
            pygame.event.pump()  # keeps the window responsive between moves
            pygame.display.update()
            self._clock.tick(RENDER_FPS)
            return None
        return np.transpose(pygame.surfarray.array3d(self._surface), (1, 0, 2))  # pygame is [x, y]; images are [y, x]

    def close(self) -> None:
        if self._surface is not None and self.render_mode == "human":
            import pygame

            pygame.display.quit()  # only the window: fonts and other surfaces in the process stay usable
        self._surface = None
        self._clock = None
