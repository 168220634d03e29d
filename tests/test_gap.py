"""The girls–boys gap (transforms/gap.py): Newcombe's published example and hand sums."""

from __future__ import annotations

import math

import pytest

from transforms.gap import gap_outcome, mover_difference


def wilson(x: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p = x / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_newcombes_example_56_of_70_minus_48_of_80():
    # Newcombe (1998), Statistics in Medicine 17:873–890, table II example (a): 56/70 − 48/80,
    # method 10 (hybrid score from Wilson intervals) gives 0.0524 to 0.3339.
    (l1, u1), (l2, u2) = wilson(56, 70), wilson(48, 80)
    d, lo, hi = mover_difference(0.8, l1, u1, 0.6, l2, u2)
    assert d == pytest.approx(0.2)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    assert gap_outcome(lo, hi) == "first_higher"


def test_hand_computed_gap_and_the_three_outcomes():
    # girls 30 (26–34), boys 25 (22–29): d = 5; L = 5 − √(4² + 4²) = −0.657, U = 5 + √(4² + 3²) = 10
    d, lo, hi = mover_difference(30.0, 26.0, 34.0, 25.0, 22.0, 29.0)
    assert (d, round(lo, 3), hi) == (5.0, -0.657, 10.0)
    assert gap_outcome(lo, hi) == "no_difference"
    assert gap_outcome(-3.0, -0.5) == "second_higher"
    assert mover_difference(30.0, None, None, 25.0, 22.0, 29.0) == (5.0, None, None)
    assert gap_outcome(None, None) == "not_tested"
