"""The accepted range of a number setting, declared beside the setting's dataclass (model, search, self-play, training).

Every config section keeps a ``{name: Bounds}`` table next to its fields;
:func:`check_bounds` refuses a value outside it in one readable line.  It
sits at the bottom of azero's layers so that each layer can declare its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The accepted values of one number setting: ``low`` to ``high``, both included unless ``above``."""

    low: float
    high: float
    above: bool = False  # ``low`` itself is refused (a rate, a time or a share that must be positive)

    def holds(self, value: float) -> bool:
        return (value > self.low if self.above else value >= self.low) and value <= self.high

    def __str__(self) -> str:
        low, high = _number_text(self.low), _number_text(self.high)
        return f"above {low} and at most {high}" if self.above else f"from {low} to {high}"


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def check_bounds(section: str, settings, ranges: dict[str, Bounds]) -> None:
    """Raise ValueError naming the first number setting of ``settings`` outside its range in ``ranges``."""
    for key, bounds in ranges.items():
        value = getattr(settings, key)
        if not bounds.holds(value):
            raise ValueError(f"{section}.{key} must be {bounds}, got {value!r}")
