"""The search layer: batched PUCT over flat arrays, and the exact tactics that prune it before the network is asked.

``mcts`` holds the numba kernels (select, expand, back up) over a forest
of arrays; ``searcher`` is their Python face (``SearchConfig``,
``Searcher``: many games at once, one network call per step); ``tactics``,
``vcf``, ``vct`` and ``defence`` are the exact solvers (wins, forced
blocks, victories by continuous fours and threes, threat defence);
``simple_mcts`` is the plain reference the tests compare against;
``pure_mcts`` plays random rollouts; ``openings`` draws balanced openings;
``time_manager`` decides how long a move may think.  Imports ``games`` and
``azero.model``.
"""
