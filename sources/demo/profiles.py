"""Plausible national levels and gradients for the synthetic demo KPIs.

Each profile says how an indicator behaves across municipalities: its national level, how
strongly it follows the latent socio-economic disadvantage factor (positive = higher where
disadvantage is higher), the gap between girls and boys, the yearly trend, and which years
exist. Levels are rough Swedish magnitudes so that the demo reads naturally; they are not
statistics about any real municipality.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    kind: str                  # proportion | rate | mean | count_rate | population_count | population_share | cost
    level: float               # proportion p, events per person-year, or mean value
    disadvantage: float = 0.0  # logit (proportion), log (rate) or points (mean) per SD of the factor
    spread: float = 0.15       # between-municipality SD on the same scale
    girls: float = 0.0         # girls minus boys, same scale (KMT indicators)
    trend: float = 0.0         # change per year, same scale
    urban: float = 0.0         # extra effect per SD of log population size
    first_year: int | None = None
    last_year: int | None = None
    biennial: bool = False     # measured every second year in half of the municipalities
    mean_sd: float = 0.0       # within-group SD of individuals (means only)
    small_count_privacy: bool = False  # the source suppresses counts 1-4
    numerator_band: tuple[int, int] | None = None  # population_share: the age band counted
    unit_cost: float = 0.0     # cost: SEK per unit of care drawn (lumpy, as placements are)
    parts: tuple[str, ...] = ()  # cost: the sum of these KPIs' costs (Kolada's own totals)


PROFILES: dict[str, Profile] = {
    "N15428": Profile("proportion", 0.85, disadvantage=-0.45, spread=0.25, girls=0.25, trend=-0.01),
    "N15508": Profile("proportion", 0.74, disadvantage=-0.50, spread=0.25, girls=0.30, trend=-0.01),
    "N15507": Profile("mean", 224.0, disadvantage=-10.0, spread=8.0, girls=20.0, trend=0.6,
                      mean_sd=65.0),
    "N15543": Profile("proportion", 0.76, disadvantage=-0.45, spread=0.25, girls=0.30),
    "N17461": Profile("proportion", 0.75, disadvantage=-0.40, spread=0.20, girls=0.20, trend=0.01),
    "N17625": Profile("proportion", 0.025, disadvantage=0.50, spread=0.30, girls=-0.30, trend=0.02),
    "N11821": Profile("proportion", 0.94, disadvantage=-0.30, spread=0.30, trend=0.02),
    "N15643": Profile("proportion", 0.82, disadvantage=-0.25, spread=0.20, girls=-0.10,
                      trend=-0.02, first_year=2016, biennial=True),
    "N17673": Profile("proportion", 0.88, disadvantage=-0.20, spread=0.20, girls=-0.10,
                      first_year=2016, biennial=True),
    "N02904": Profile("proportion", 0.12, disadvantage=0.55, spread=0.20, trend=-0.03,
                      last_year=2021),
    "N66077": Profile("proportion", 0.14, disadvantage=0.55, spread=0.20, trend=0.01,
                      first_year=2017),
    "N02901": Profile("proportion", 0.07, disadvantage=0.60, spread=0.25, trend=-0.02),
    "N02902": Profile("proportion", 0.06, disadvantage=0.50, spread=0.25, trend=-0.01),
    "N02903": Profile("proportion", 0.035, disadvantage=0.35, spread=0.25, trend=-0.03),
    "N31807": Profile("proportion", 0.035, disadvantage=0.55, spread=0.25, trend=-0.02),
    "N07907": Profile("proportion", 0.16, disadvantage=0.40, spread=0.25, urban=0.15),
    "U09800": Profile("rate", 28.0, disadvantage=-0.15, spread=0.20, girls=-0.25, trend=0.01),
    "U09808": Profile("rate", 22.0, disadvantage=-0.15, spread=0.20, girls=-0.30, trend=0.01),
    "N09890": Profile("proportion", 0.14, disadvantage=-0.30, spread=0.35, girls=0.35),
    "N09805": Profile("rate", 0.025, disadvantage=-0.10, spread=0.45, trend=0.03),
    "N07403": Profile("rate", 0.0095, disadvantage=0.30, spread=0.20, urban=0.20, trend=0.01),
    "U07417": Profile("rate", 0.045, disadvantage=0.15, spread=0.25, urban=0.25, trend=-0.03),
    "U07452": Profile("rate", 0.018, disadvantage=0.20, spread=0.25, urban=0.10, trend=-0.02),
    "U00915": Profile("rate", 0.0002, disadvantage=0.40, spread=0.30, trend=-0.04,
                      small_count_privacy=True),
    "N33802": Profile("proportion", 0.025, disadvantage=0.40, spread=0.30, girls=-0.15),
    "N33812": Profile("count_rate", 0.009, disadvantage=0.40, spread=0.30, girls=-0.05,
                      small_count_privacy=True),
    "N33813": Profile("count_rate", 0.003, disadvantage=0.40, spread=0.35, girls=-0.40,
                      trend=-0.03, small_count_privacy=True),
    "N02906": Profile("proportion", 0.065, disadvantage=0.45, spread=0.20, girls=-0.10),
    "N01919": Profile("population_count", 0.0),
    "N01948": Profile("population_count", 0.0),
    "N02900": Profile("proportion", 0.08, disadvantage=0.45, spread=0.30, urban=0.25, trend=0.02),
    "N01994": Profile("population_share", 0.0, numerator_band=(0, 19)),
    # Hälsoekonomi (data/catalog/late_cost.yaml): kronor per resident in current prices, about
    # 4 % a year nominal growth. Care comes in lumps (a placement-year at an HVB costs about a
    # million), so one placement moves a small kommun's figure, as in real accounts; the
    # totals are the sums of their parts, so the demo's components add up.
    "N33002": Profile("cost", 2600.0, disadvantage=0.35, spread=0.30, trend=0.04, unit_cost=900_000.0),
    "N33004": Profile("cost", 3900.0, disadvantage=0.30, spread=0.25, trend=0.04, unit_cost=300_000.0),
    "N33021": Profile("cost", 2800.0, disadvantage=0.20, spread=0.25, trend=0.04, unit_cost=40_000.0),
    "N33022": Profile("cost", 0.0, parts=("N33002", "N33004")),
    "N33006": Profile("cost", 0.0, parts=("N33002", "N33004", "N33021")),
    "N30007": Profile("cost", 4700.0, disadvantage=0.22, spread=0.05, trend=0.04, unit_cost=1_000.0),
    "N30005": Profile("cost", 4700.0, disadvantage=0.22, spread=0.12, trend=0.04, unit_cost=1_000.0),
    "U31803": Profile("proportion", 0.05, disadvantage=0.60, spread=0.25, trend=-0.03),
    "U31809": Profile("proportion", 0.025, disadvantage=0.65, spread=0.30, trend=-0.03),
    "U31804": Profile("proportion", 0.05, disadvantage=0.50, spread=0.25, trend=-0.02),
}

def profile_for(kpi_id: str) -> Profile | None:
    """The profile of a KPI the demo service knows, or None.

    The demo imitates Kolada for the KPIs of the default catalogue only; like the real API it
    does not know ids it has never heard of. To simulate another KPI, add a profile here.
    """
    return PROFILES.get(kpi_id)
