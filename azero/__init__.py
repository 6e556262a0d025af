"""azero: AlphaZero for Gomoku."""

__version__ = "0.1.0"
