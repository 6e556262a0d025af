"""Drawing a Gomoku position with pygame: the board, the stones and the analysis over them.

Pure drawing, no events and no game logic: the window (:mod:`azero.play.window`)
and ``azero play --screenshot`` both call :func:`draw_board`, so a
screenshot shows exactly what the window shows.  Works without a screen
(``SDL_VIDEODRIVER=dummy``): everything draws on a Surface.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from games import coords
from games.constants import BLACK, WHITE
from games.gomoku import Gomoku

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's greeting would land on stdout

WOOD = (222, 184, 120)
LINE = (60, 40, 20)
BLACK_STONE = (20, 20, 20)
WHITE_STONE = (245, 245, 240)
LAST_MOVE = (215, 40, 40)
FORBIDDEN = (200, 30, 30)
HINT = (30, 120, 220)
PV_BLACK = (70, 70, 70)
PV_WHITE = (235, 235, 235)
BETTER = (235, 120, 20)
BEST_CANDIDATE = (40, 130, 230)
CANDIDATE = (90, 180, 110)


@dataclass
class Overlay:
    """What is drawn over the stones; every part optional."""

    numbers: bool = False  # move numbers on the stones
    forbidden: bool = True  # renju: mark black's forbidden points when black is to move
    heat: np.ndarray | None = None  # per-point weights (the policy), shaded in blue
    hint: int | None = None  # a suggested move, ringed
    line: list[int] = field(default_factory=list)  # a principal variation, shown as numbered ghost stones
    better: int | None = None  # the move the AI would have played instead (teaching, review), ringed in orange
    # Live analysis: (move, win rate of the side to move, visits), best first; drawn as labelled discs.
    candidates: list[tuple[int, float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class BoardGeometry:
    """Where the board's points are on the screen."""

    size: int
    cell: int
    margin: int  # room for the coordinates around the grid
    left: int = 0
    top: int = 0

    # The margin in cells: the coordinates sit in its outer part, clear of a stone on the edge line.
    MARGIN_CELLS = 1.4

    @classmethod
    def fit(cls, size: int, pixels: int, left: int = 0, top: int = 0) -> "BoardGeometry":
        """The largest grid of ``size`` points that fits a square of ``pixels``."""
        cell = max(12, int((pixels - 2) / (size - 1 + 2 * cls.MARGIN_CELLS)))
        return cls(size, cell, int(cell * cls.MARGIN_CELLS), left, top)

    @property
    def stone_radius(self) -> int:
        return int(self.cell * 0.46)

    @property
    def label_offset(self) -> int:
        """How far in from the board's edge the coordinates are centred."""
        return int(self.cell * 0.42)

    def label_font_size(self) -> int:
        return max(14, int(self.cell * 0.5))

    @property
    def pixels(self) -> int:
        return 2 * self.margin + (self.size - 1) * self.cell

    def centre(self, move: int) -> tuple[int, int]:
        x, y = coords.to_xy(move, self.size)
        return self.left + self.margin + x * self.cell, self.top + self.margin + y * self.cell

    def point_at(self, px: int, py: int) -> int | None:
        """The board point under a pixel (within half a cell of it), or None."""
        x = round((px - self.left - self.margin) / self.cell)
        y = round((py - self.top - self.margin) / self.cell)
        if not (0 <= x < self.size and 0 <= y < self.size):
            return None
        cx, cy = self.left + self.margin + x * self.cell, self.top + self.margin + y * self.cell
        if abs(px - cx) > self.cell / 2 or abs(py - cy) > self.cell / 2:
            return None
        return coords.from_xy(x, y, self.size)


def star_points(size: int) -> list[tuple[int, int]]:
    """The marked points: the centre, and on 9x9 and up four more (3 or 4 lines in from the edges)."""
    centre = size // 2
    if size < 9:
        return [(centre, centre)] if size % 2 else []
    edge = 2 if size < 13 else 3
    far = size - 1 - edge
    points = [(edge, edge), (edge, far), (far, edge), (far, far)]
    return points + [(centre, centre)] if size % 2 else points


def draw_board(surface, geometry: BoardGeometry, game: Gomoku, overlay: Overlay | None = None) -> None:
    """Draw ``game`` on ``surface`` at ``geometry``: wood, grid, coordinates, stars, stones and the overlay."""
    import pygame

    overlay = overlay or Overlay()
    g = geometry
    size = game.size
    pygame.draw.rect(surface, WOOD, (g.left, g.top, g.pixels, g.pixels))
    low, high = g.margin, g.margin + (size - 1) * g.cell
    for i in range(size):
        at = g.margin + i * g.cell
        pygame.draw.line(surface, LINE, (g.left + at, g.top + low), (g.left + at, g.top + high), 1)
        pygame.draw.line(surface, LINE, (g.left + low, g.top + at), (g.left + high, g.top + at), 1)
    for x, y in star_points(size):
        pygame.draw.circle(surface, LINE, g.centre(coords.from_xy(x, y, size)), max(2, g.cell // 9))
    font = pygame.font.Font(None, g.label_font_size())
    labels = coords.column_labels(size)
    edge = g.label_offset
    for i in range(size):
        column = font.render(labels[i], True, LINE)
        row = font.render(str(coords.row_label(i, size)), True, LINE)
        cx = g.left + g.margin + i * g.cell
        cy = g.top + g.margin + i * g.cell
        surface.blit(column, column.get_rect(center=(cx, g.top + edge)))
        surface.blit(column, column.get_rect(center=(cx, g.top + g.pixels - edge)))
        surface.blit(row, row.get_rect(center=(g.left + edge, cy)))
        surface.blit(row, row.get_rect(center=(g.left + g.pixels - edge, cy)))
    if overlay.heat is not None:
        _draw_heat(surface, g, game, overlay.heat)
    radius = g.stone_radius
    number_font = pygame.font.Font(None, max(12, int(g.cell * 0.5)))
    for number, move in enumerate(game.moves, 1):
        colour = BLACK if number % 2 == 1 else WHITE
        centre = g.centre(move)
        pygame.draw.circle(surface, BLACK_STONE if colour == BLACK else WHITE_STONE, centre, radius)
        pygame.draw.circle(surface, LINE, centre, radius, 1)
        if overlay.numbers:
            text = number_font.render(str(number), True, WHITE_STONE if colour == BLACK else BLACK_STONE)
            surface.blit(text, text.get_rect(center=centre))
    if game.moves:
        last = g.centre(game.moves[-1])
        if overlay.numbers:
            pygame.draw.circle(surface, LAST_MOVE, last, radius, 2)
        else:
            pygame.draw.circle(surface, LAST_MOVE, last, max(3, g.cell // 7))
    if overlay.forbidden and game.rule == "renju" and game.to_move == BLACK and not game.is_over:
        arm = max(3, g.cell // 5)
        for move in game.forbidden_moves():
            cx, cy = g.centre(move)
            pygame.draw.line(surface, FORBIDDEN, (cx - arm, cy - arm), (cx + arm, cy + arm), 2)
            pygame.draw.line(surface, FORBIDDEN, (cx - arm, cy + arm), (cx + arm, cy - arm), 2)
    for step, move in enumerate(overlay.line[:12]):
        if game.board[move] != 0:
            break
        colour = game.to_move if step % 2 == 0 else (WHITE if game.to_move == BLACK else BLACK)
        ghost = pygame.Surface((2 * radius, 2 * radius), pygame.SRCALPHA)
        fill = PV_BLACK if colour == BLACK else PV_WHITE
        pygame.draw.circle(ghost, (*fill, 150), (radius, radius), radius)
        surface.blit(ghost, ghost.get_rect(center=g.centre(move)))
        text = number_font.render(str(step + 1), True, WHITE_STONE if colour == BLACK else BLACK_STONE)
        surface.blit(text, text.get_rect(center=g.centre(move)))
    if overlay.hint is not None and game.board[overlay.hint] == 0:
        pygame.draw.circle(surface, HINT, g.centre(overlay.hint), radius, 3)
    if overlay.better is not None and game.board[overlay.better] == 0:
        pygame.draw.circle(surface, BETTER, g.centre(overlay.better), radius, 4)
    _draw_candidates(surface, g, game, overlay.candidates)


def visits_text(visits: int) -> str:
    """Visits as people read them on a small disc: 950, 1.2k, 15k."""
    if visits < 1000:
        return str(visits)
    return f"{visits / 1000:.1f}k" if visits < 10000 else f"{visits // 1000}k"


def _draw_candidates(surface, g: BoardGeometry, game: Gomoku, candidates) -> None:
    """Live analysis: a disc on each candidate with its win rate (%) over its visits; the best one blue and ringed."""
    import pygame

    radius = g.stone_radius
    big = pygame.font.Font(None, max(12, int(g.cell * 0.48)))
    small = pygame.font.Font(None, max(10, int(g.cell * 0.34)))
    for rank, (move, rate, visits) in enumerate(candidates):
        if game.board[move] != 0:
            continue
        disc = pygame.Surface((2 * radius, 2 * radius), pygame.SRCALPHA)
        pygame.draw.circle(disc, (*(BEST_CANDIDATE if rank == 0 else CANDIDATE), 215), (radius, radius), radius)
        cx, cy = g.centre(move)
        surface.blit(disc, disc.get_rect(center=(cx, cy)))
        if rank == 0:
            pygame.draw.circle(surface, LINE, (cx, cy), radius, 2)
        rate_text = big.render(f"{100 * rate:.0f}", True, (255, 255, 255))
        visit_text = small.render(visits_text(visits), True, (255, 255, 255))
        surface.blit(rate_text, rate_text.get_rect(center=(cx, cy - radius // 4)))
        surface.blit(visit_text, visit_text.get_rect(center=(cx, cy + radius // 2)))


def _draw_heat(surface, g: BoardGeometry, game: Gomoku, heat: np.ndarray) -> None:
    import pygame

    top = float(np.max(heat)) if heat.size else 0.0
    if top <= 0:
        return
    square = g.cell - 2
    for move in np.flatnonzero(heat > top * 0.02):
        if game.board[move] != 0:
            continue
        alpha = int(40 + 180 * float(heat[move]) / top)
        patch = pygame.Surface((square, square), pygame.SRCALPHA)
        patch.fill((40, 110, 230, alpha))
        surface.blit(patch, patch.get_rect(center=g.centre(int(move))))


def draw_win_rate_bar(surface, rect, win_rate: float | None, to_move: int) -> None:
    """A bar split at the side to move's expected score: black's share on the left, white's on the right."""
    import pygame

    x, y, w, h = rect
    pygame.draw.rect(surface, WHITE_STONE, rect)
    if win_rate is not None:
        black_share = win_rate if to_move == BLACK else 1.0 - win_rate
        pygame.draw.rect(surface, BLACK_STONE, (x, y, int(w * black_share), h))
    pygame.draw.rect(surface, LINE, rect, 1)
    pygame.draw.line(surface, LAST_MOVE, (x + w // 2, y), (x + w // 2, y + h - 1), 1)


def draw_win_rate_graph(surface, rect, black_win_rates: list[float], marks=(), cursor: int | None = None) -> None:
    """Black's expected score after each move, 0 at the bottom, 1 at the top; the 50% line dashed in red.

    ``marks``: (index, colour) dots on the curve (a review's mistakes); ``cursor``: a vertical line at an index.
    """
    import pygame

    x, y, w, h = rect
    pygame.draw.rect(surface, (250, 248, 240), rect)
    pygame.draw.rect(surface, LINE, rect, 1)
    for dash in range(x, x + w, 8):
        pygame.draw.line(surface, LAST_MOVE, (dash, y + h // 2), (min(dash + 4, x + w - 1), y + h // 2), 1)
    if len(black_win_rates) >= 2:
        step = (w - 4) / (len(black_win_rates) - 1)
        points = [(x + 2 + i * step, y + 2 + (h - 4) * (1.0 - rate)) for i, rate in enumerate(black_win_rates)]
        if cursor is not None:
            cx = int(x + 2 + cursor * step)
            pygame.draw.line(surface, HINT, (cx, y + 1), (cx, y + h - 2), 2)
        pygame.draw.lines(surface, BLACK_STONE, False, points, 2)
        for index, colour in marks:
            if 0 <= index < len(points):
                pygame.draw.circle(surface, colour, (int(points[index][0]), int(points[index][1])), 4)


def render_png(game: Gomoku, path, pixels: int = 640, overlay: Overlay | None = None) -> None:
    """The position as a PNG (no window): what ``azero play --screenshot`` writes."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    pygame.font.init()
    geometry = BoardGeometry.fit(game.size, pixels)
    surface = pygame.Surface((geometry.pixels, geometry.pixels))
    draw_board(surface, geometry, game, overlay)
    _save_surface(surface, path)


def _save_surface(surface, path) -> None:
    """Write a PNG atomically (a viewer reloading it never sees half an image)."""
    from pathlib import Path

    import pygame

    path = Path(path)
    temporary = path.with_name(path.name + ".tmp.png")
    pygame.image.save(surface, str(temporary))
    temporary.replace(path)
