"""Render the README's pictures of the window: live analysis on 15x15 (and `azero review` draws the other).

    python docs/make_window_screenshots.py            # writes docs/play-live-analysis.png
    azero review docs/sample-game.sgf --screenshot docs/review-gomoku15.png

It opens the real window off-screen (SDL's dummy driver), plays the moves of
a game as a person would, turns live analysis on and waits until the AI has
searched the position 3,000 times, then saves what the window shows.
"""

import os
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from azero.play.app import network_threads, set_network_threads  # noqa: E402
from azero.play.board_view import _save_surface  # noqa: E402
from azero.play.choices import Choices, checkpoint_variant, shipped_checkpoint  # noqa: E402
from azero.play.session import PlaySession  # noqa: E402
from azero.play.thinker import Thinker  # noqa: E402
from azero.play.window import Window  # noqa: E402
from azero.players.factory import make_player  # noqa: E402
from games import coords  # noqa: E402
from games.gomoku import Gomoku  # noqa: E402

MOVES = "h8 i9 i7 j8".split()


def main(out: str = "docs/play-live-analysis.png", visits: int = 3000) -> None:
    set_network_threads(network_threads())
    spec = f"az:{shipped_checkpoint('freestyle', 15)}"
    choices = Choices([checkpoint_variant(spec)])
    session = PlaySession(size=15, ai_spec=choices.opponent_spec(), db_path=None)
    window = Window(session, Thinker(make_player), choices)
    try:
        session.game = Gomoku.from_moves([coords.from_notation(m, 15) for m in MOVES], 15, "freestyle")
        session.black_win_rates = [None] * (len(MOVES) + 1)
        window.command("live")
        deadline = time.time() + 600
        while not (window.analysis is not None and window.analysis.simulations >= visits) and time.time() < deadline:
            window.tick()
            time.sleep(0.05)
        window.status = "live analysis: the AI's candidates for black, win rate (%) over visits; the best in blue"
        window.draw()
        _save_surface(window.screen, out)
        print(f"wrote {out}: {window.analysis.simulations} visits")
    finally:
        window.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
