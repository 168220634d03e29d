"""Rankability: how much of the variation in a ranking is real, and how much is uncertainty.

Marshall & Spiegelhalter (BMJ 1998;316:1701) showed with simulated rank intervals that
league tables of small units are "extremely unreliable statistical summaries". Lingsma,
Eijkemans & Steyerberg (BMC Med Res Methodol 2009;9:53) give the single number to publish
beside the intervals: rankability ρ = τ² / (τ² + σ²), the share of the variation between
units that is true (τ², between units) rather than noise (σ², within a unit).

Here it is computed on the ranks of the Monte Carlo draws, so that it describes exactly the
intervals shown beside it (data uncertainty and method choices alike). For m units ranked
in each of D draws, R[d, k]:

    within  = mean over k of Var_d(R[·, k])          (how much a unit's rank moves)
    total   = Var over all (d, k) of R[d, k]         (all rank variation; (m² − 1)/12)
    ρ       = 1 − within / total                     (= Var_k(mean_d R) / total)

(population variances; the law of total variance gives the identity). With no
uncertainty every draw repeats the nominal ranks and ρ = 1; when every draw is a random
permutation the mean ranks all tend to (m + 1)/2 and ρ → 0. Fewer than `MIN_UNITS` units
give no ρ: there is too little to rank.

Bands (van Dishoeck et al., BMJ Qual Saf 2011;20:869, after Lingsma 2009): below 0.5 the
ranking says little, 0.5–0.75 it says something, from 0.75 it is clear.
"""

from __future__ import annotations

import numpy as np

MIN_UNITS = 3
LOW = 0.5
HIGH = 0.75
BANDS = {"low": "Rangordningen säger lite", "moderate": "Rangordningen säger en del",
         "high": "Rangordningen är tydlig"}
SHORT = {"low": "säger lite", "moderate": "säger en del", "high": "tydlig"}


def rankability(ranks: np.ndarray) -> float | None:
    """ρ from ranks (D draws, m units); None for fewer than MIN_UNITS units."""
    ranks = np.asarray(ranks, dtype=float)
    if ranks.ndim != 2 or ranks.shape[1] < MIN_UNITS:
        return None
    total = ranks.var()
    if total == 0:
        return None
    within = ranks.var(axis=0).mean()
    return float(max(0.0, 1.0 - within / total))


def band(rho: float | None) -> str | None:
    if rho is None:
        return None
    return "low" if rho < LOW else "moderate" if rho < HIGH else "high"


def sentence(rho: float | None, units: str, n: int) -> str:
    """The Swedish sentence shown with the ranks, e.g. for units "länets kommuner"."""
    if rho is None:
        return (f"Rangordningen går inte att bedöma: {n} {'enhet' if n == 1 else 'enheter'} "
                "är för få att rangordna." if n < MIN_UNITS else "Rangordningen går inte att bedöma.")
    share = f"{round(100 * rho)}\u00a0%"
    kind = band(rho)
    text = (f"{BANDS[kind]}: {share} av skillnaderna i rang mellan {units} är verkliga skillnader, "
            f"resten är osäkerhet i data och metod.")
    if kind == "low":
        text += " Läs rangen som ungefärlig och se intervallen."
    return text
