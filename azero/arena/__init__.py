"""The arena pipeline: tournaments between players, their games in SQLite, Elo ratings with intervals, the ratings card.

``tournament`` schedules and runs a round robin or gauntlet (local
processes or ``ray_backend``); ``worker`` plays and stores one task;
``match`` is one game between two players; ``store`` is the SQLite
database; ``ratings`` fits Elo; ``report`` prints tables, plots and PGN;
``card`` writes checkpoints/RATINGS.md; ``level_ratings`` gives the
window's strength levels their Elo.
"""
