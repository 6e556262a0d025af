"""Gomoku for the rest of the RL ecosystem (``pip install -e '.[rl]'``).

* :mod:`azero.env.gomoku_v0`: a PettingZoo AEC environment shaped like the
  classic suite (``from azero.env import gomoku_v0; env = gomoku_v0.env(size=15)``);
* :mod:`azero.env.single_agent`: a Gymnasium environment where one side is
  any azero player (``heuristic``, ``pure:N``, ``az:PATH``), registered as
  ``azero/GomokuVsPlayer-v0``.

Both read the rules from :class:`games.gomoku.Gomoku` and show the agent the
network's own input planes (:mod:`azero.env.view`); neither has rules of its own.
"""
