"""The window face: ``azero play`` and ``azero review`` (pygame).

``app`` parses the command and opens the window; ``window`` draws and
handles input, with ``thinker`` searching on its own thread; ``session``
is what the buttons do, with no drawing; ``board_view`` draws a position;
``choices`` is what the person can pick (game, side, strength);
``review`` grades a finished game's moves; ``review_command`` is
``azero review``.
"""
