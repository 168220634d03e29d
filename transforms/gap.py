"""The gap between two groups (girls minus boys) with its 95 % interval and a test.

MOVER (method of variance estimates recovery; Newcombe 1998 for proportions, Zou & Donner
2008 in general): from each group's own 95 % interval (Wilson for shares, Byar or exact
Poisson for rates), the interval of the difference d = v1 − v2 is

    L = d − √((v1 − l1)² + (u2 − v2)²),    U = d + √((u1 − v1)² + (v2 − l2)²).

With Wilson intervals this is Newcombe's hybrid score interval (his method 10). The gap is
significant at 95 % when the interval leaves out 0; three outcomes, never two: the first
group higher, no certain difference, the second group higher. Without an interval for
either group the gap is given but not tested.
"""

from __future__ import annotations

import math

GAP = {"first_higher": "Säkert högre för flickor", "no_difference": "Ingen säker skillnad",
       "second_higher": "Säkert högre för pojkar", "not_tested": "Kan inte prövas"}


def mover_difference(v1: float, l1: float | None, u1: float | None,
                     v2: float, l2: float | None, u2: float | None) -> tuple[float, float | None, float | None]:
    """d = v1 − v2 and its 95 % interval (None, None without both groups' intervals)."""
    d = v1 - v2
    if None in (l1, u1, l2, u2):
        return d, None, None
    return (d, d - math.sqrt((v1 - l1) ** 2 + (u2 - v2) ** 2),
            d + math.sqrt((u1 - v1) ** 2 + (v2 - l2) ** 2))


def gap_outcome(lower: float | None, upper: float | None) -> str:
    """first_higher / no_difference / second_higher, or not_tested without an interval."""
    if lower is None or upper is None:
        return "not_tested"
    if lower > 0:
        return "first_higher"
    if upper < 0:
        return "second_higher"
    return "no_difference"
