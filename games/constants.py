"""Named values shared by the engine kernels and the Python face.

Kept as plain ints so numba can fold them into compiled code.
"""

EMPTY = 0
BLACK = 1
WHITE = 2

# Game results (``Gomoku.winner``): 0 while the game goes on, else BLACK, WHITE or DRAW.
ONGOING = 0
DRAW = 3

# Rules, as ints for the kernels.
FREESTYLE = 0  # five or more in a row wins
STANDARD = 1  # exactly five wins; an overline does not, and the game goes on
RENJU = 2  # black: exactly five, overline/double-four/double-three forbidden; white: five or more

RULES = {"freestyle": FREESTYLE, "standard": STANDARD, "renju": RENJU}
RULE_NAMES = {code: name for name, code in RULES.items()}

# Renju's forbidden shapes are defined for five in a row only.
RENJU_N_IN_ROW = 5


def rule_code(rule: object) -> int:
    """Map a rule name to its code, or raise ValueError naming the accepted ones."""
    if isinstance(rule, str) and rule.strip().lower() in RULES:
        return RULES[rule.strip().lower()]
    raise ValueError(f"unknown rule {rule!r}: choose one of {', '.join(RULES)}")
