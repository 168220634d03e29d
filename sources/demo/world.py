"""A deterministic synthetic Sweden for demo mode.

Every municipality gets a population by year, single-year age and sex, a latent
socio-economic disadvantage factor (partly shared within its county) and a size. Each
catalogue indicator is then drawn from its profile: counts are binomial or Poisson draws
from the relevant population band, so numerators are consistent with the population and
län/riket values follow from the same counts. Small groups come out suppressed
("Privacy") as in Kolada, and a few values are missing.

Nothing here is real data; everything built from it is labelled DEMO_LABEL.
"""

from __future__ import annotations

import copy
import itertools
import re
import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import orjson
import polars as pl

from sources.catalog import Indicator
from sources.demo.profiles import Profile, profile_for

DEMO_LABEL = "Demodata – syntetiska värden"
DEMO_SEED = 20261123
MAX_AGE = 100  # the last age class is "100+"
BASE_YEAR = 2015

# Kolada renames KPIs while keeping ids; the demo does the same for one KPI so that the
# pipeline's "title at fetch time" is exercised.
RENAMED_TITLES = {
    "N15508": "Elever i åk 9 som uppnått betygskriterierna i alla ämnen, hemkommun, andel (%)",
}

OBJECT_START = re.compile(rb'\{"kpi":')  # how every Kolada data object begins
KOLADA_CACHE_SIZE = 64  # KPIs whose drawn objects are kept (the default catalogue fits)

# When the demo sources last changed: Kolada's data routes answer `from_date` and SCB's
# tables report `updated` from these (a test or the stand-in moves them to simulate news).
DEMO_MODIFIED = "2026-03-20"
DEMO_SCB_UPDATED = "2026-03-20T07:00:00Z"

# Large municipalities, so that the demo has metropolitan areas where a real user expects them.
METRO_SIZE = {"0180": 990_000, "1480": 600_000, "1280": 360_000, "0380": 240_000,
              "0580": 166_000, "1880": 160_000, "0581": 145_000, "1980": 157_000}


def stable_rng(*parts: object) -> np.random.Generator:
    """A generator that depends only on its labels, not on call order."""
    keys = [DEMO_SEED] + [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(keys)


_WORLDS: dict[tuple, DemoWorld] = {}


def shared_world(kommuner: pl.DataFrame, indicators: list[Indicator], years: list[int]) -> DemoWorld:
    """One generated world per process and setting (building one takes seconds), each
    caller with its own source state."""
    key = (tuple(kommuner.sort("kommun_code")["kommun_code"]), tuple(indicators), tuple(sorted(years)))
    if key not in _WORLDS:
        _WORLDS.clear()
        _WORLDS[key] = DemoWorld.build(kommuner, indicators, years)
    return _WORLDS[key].variant()


def _round(x: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Python's round(x, digits) for arrays, value for value: the scaled value rounded half
    to even and divided back is the correctly rounded decimal, except where the scaling's
    own rounding may have moved it across a half; those few take Python's round."""
    scale = 10.0 ** digits
    scaled = x * scale
    nearest = np.rint(scaled)
    out = nearest / scale
    unsure = np.abs(np.abs(scaled - nearest) - 0.5) <= np.abs(scaled) * 4e-16
    for i in np.flatnonzero(unsure):
        out[i] = round(float(x[i]), int(digits[i]))
    return out


def _age_profile() -> np.ndarray:
    ages = np.arange(MAX_AGE + 1)
    weights = np.where(ages < 20, 1.15, np.where(ages < 30, 1.25, np.where(ages < 65, 1.3,
                       np.where(ages < 80, 1.1, 1.1 * np.exp(-(ages - 80) / 6.0)))))
    return weights / weights.sum()


@dataclass
class SourceState:
    """What the demo sources say today: changes and faults, as a real source has them."""

    kpi_modified: dict[str, str] = field(default_factory=dict)   # KPI -> last change (date)
    kpi_scale: dict[str, float] = field(default_factory=dict)    # KPI -> factor on its values
    kpi_retired: set[str] = field(default_factory=set)            # ids the source no longer knows
    kpi_empty: set[str] = field(default_factory=set)              # known, but no data
    kpi_titles: dict[str, str] = field(default_factory=dict)      # KPI -> title today
    scb_updated: dict[str, str] = field(default_factory=dict)     # table -> `updated` stamp
    scb_last_year: int | None = None                              # SCB lags: no later years

    def modified(self, kpi: str) -> str:
        return self.kpi_modified.get(kpi, DEMO_MODIFIED)


@dataclass
class DemoWorld:
    kommun_codes: list[str]
    lan_codes: list[str]
    indicators: list[Indicator]
    years: list[int]
    _kolada_cache: dict = field(default_factory=dict, repr=False)
    source: SourceState = field(default_factory=SourceState)

    @classmethod
    def build(cls, kommuner: pl.DataFrame, indicators: list[Indicator], years: list[int]) -> DemoWorld:
        ordered = kommuner.sort("kommun_code")
        return cls(ordered["kommun_code"].to_list(), ordered["lan_code"].to_list(),
                   list(indicators), sorted(years))

    def variant(self, **changes) -> DemoWorld:
        """The same synthetic Sweden (generated arrays shared) with its own source state."""
        other = copy.copy(self)
        other.source = SourceState(**{**copy.deepcopy(vars(self.source)), **changes})
        return other

    # --- structure ----------------------------------------------------------------------
    @cached_property
    def structure(self) -> pl.DataFrame:
        n = len(self.kommun_codes)
        rng = stable_rng("structure")
        lan_effect = {lan: stable_rng("lan", lan).normal(0, 0.45) for lan in set(self.lan_codes)}
        size = np.exp(rng.normal(9.75, 0.85, n)).clip(2_400, 400_000)
        for i, code in enumerate(self.kommun_codes):
            if code in METRO_SIZE:
                size[i] = METRO_SIZE[code]
        log_size = np.log(size)
        urban = (log_size - log_size.mean()) / log_size.std()
        disadvantage = (0.8 * rng.normal(0, 1, n)
                        + np.array([lan_effect[lan] for lan in self.lan_codes])
                        - 0.15 * urban)
        disadvantage = (disadvantage - disadvantage.mean()) / disadvantage.std()
        return pl.DataFrame({
            "kommun_code": self.kommun_codes,
            "lan_code": self.lan_codes,
            "size": size,
            "urban": urban,
            "disadvantage": disadvantage,
            "child_factor": np.clip(rng.normal(1.0, 0.1, n) - 0.05 * disadvantage, 0.75, 1.3),
            "growth": rng.normal(0.004, 0.007, n) + 0.004 * urban,
        })

    @cached_property
    def population(self) -> np.ndarray:
        """True population [kommun, year, age 0..100, sex (0 = män, 1 = kvinnor)] as integers."""
        s = self.structure
        base = _age_profile()
        young = np.arange(MAX_AGE + 1) < 20
        n_k, n_y = len(self.kommun_codes), len(self.years)
        out = np.zeros((n_k, n_y, MAX_AGE + 1, 2), dtype=np.int64)
        rng = stable_rng("population")
        male_share = np.where(np.arange(MAX_AGE + 1) < 65, 0.512, 0.47)
        for k in range(n_k):
            weights = base * np.where(young, s["child_factor"][k], 1.0)
            weights /= weights.sum()
            for y, year in enumerate(self.years):
                total = s["size"][k] * (1 + s["growth"][k]) ** (year - BASE_YEAR)
                expected = total * weights * rng.normal(1.0, 0.03, MAX_AGE + 1).clip(0.85, 1.15)
                out[k, y, :, 0] = np.round(expected * male_share)
                out[k, y, :, 1] = np.round(expected * (1 - male_share))
        return out

    def band(self, band_from: int | None, band_to: int | None) -> np.ndarray:
        """Population [kommun, year, sex] in an age band (None = all ages)."""
        if band_from is None:
            return self.population.sum(axis=2)
        return self.population[:, :, band_from:band_to + 1, :].sum(axis=2)

    # --- Kolada ---------------------------------------------------------------------------
    def kpi_metadata(self) -> dict[str, dict]:
        meta = {}
        for ind in self.indicators:
            if (ind.source != "kolada" or profile_for(ind.source_id) is None
                    or ind.source_id in self.source.kpi_retired or ind.source_id in meta):
                continue
            meta[ind.source_id] = {
                "id": ind.source_id,
                "title": self.source.kpi_titles.get(ind.source_id,
                                                    RENAMED_TITLES.get(ind.source_id, ind.title)),
                "description": ind.definition,
                "is_divided_by_gender": ind.sex_split == "KMT",
                "municipality_type": "K",
                "auspice": None,
                "operating_area": ind.domain,
                "perspective": "Resultat",
                "prel_publication_date": None,
                "publication_date": "2026-10-01",
                "publ_period": str(self.years[-1]),
                "has_ou_data": False,
            }
        return meta

    def kolada_json(self, kpi: str) -> list[tuple[int, bytes]]:
        """All data objects of one KPI as (period, the object's JSON), kommuner first, then
        regions (00LL) and riket (0000). A drawn KPI is kept as one string of JSON with where
        each object starts: as dicts it weighed about three times as much, and an object
        encoded on its own takes orjson's whole starting buffer (kilobytes) for a few hundred
        bytes."""
        if kpi in self.source.kpi_retired or kpi in self.source.kpi_empty:
            return []
        if kpi not in self._kolada_cache:
            if len(self._kolada_cache) >= KOLADA_CACHE_SIZE:  # bounded: a large catalogue
                self._kolada_cache.clear()                    # would hold gigabytes
            indicator = self._indicator(kpi)
            known = indicator is not None and profile_for(kpi) is not None
            objects = self._draw(indicator) if known else []
            # One encoding of the whole list (a call per object cost a tenth of a second):
            # each object begins with its "kpi" key, which nothing inside an object has.
            text = orjson.dumps(objects)[1:-1]
            starts = [m.start() for m in OBJECT_START.finditer(text)]
            if len(starts) != len(objects):  # not as drawn: encode one by one
                parts = [orjson.dumps(o) for o in objects]
                text = b",".join(parts)
                starts = list(itertools.accumulate((len(p) + 1 for p in parts[:-1]), initial=0))
            self._kolada_cache[kpi] = ([o["period"] for o in objects], text, starts)
        periods, text, starts = self._kolada_cache[kpi]
        ends = [start - 1 for start in starts[1:]] + [len(text)]  # the comma between left out
        return [(period, text[start:end]) for period, start, end in zip(periods, starts, ends)]

    def kolada_rescaled(self, kpi: str) -> bool:
        return kpi in self.source.kpi_scale

    def kolada_objects(self, kpi: str) -> list[dict]:
        """All data objects of one KPI as the service sends them (a rescaled KPI's values
        multiplied, as a source that changed its unit would send them)."""
        objects = [orjson.loads(text) for _, text in self.kolada_json(kpi)]
        factor = self.source.kpi_scale.get(kpi)
        if factor is None:
            return objects
        return [{**o, "values": [{**v, "value": None if v["value"] is None
                                  else round(v["value"] * factor, 2)} for v in o["values"]]}
                for o in objects]

    def _indicator(self, kpi: str) -> Indicator | None:
        return next((i for i in self.indicators if i.source_id == kpi), None)

    def _draw(self, ind: Indicator) -> list[dict]:
        prof = profile_for(ind.source_id)
        band = (None, None) if ind.population == "all" else (ind.population.from_age,
                                                               ind.population.to_age)
        den = self.band(*band).astype(float)          # [k, y, sex]
        num = self._numerators(ind, prof, den)         # [k, y, sex] counts or value*den
        rng = stable_rng("gaps", ind.id)
        n_k, n_y = den.shape[:2]
        # Demography is always published; other series have a few gaps.
        missing = (rng.random((n_k, n_y)) < 0.005) & (not prof.kind.startswith("population"))
        parity = np.array([zlib.crc32(c.encode()) % 2 for c in self.kommun_codes])
        genders = ("T", "K", "M") if ind.sex_split == "KMT" else ("T",)
        by_gender = {g: [a[..., idx].sum(axis=-1) for a in (num, den)]
                     for g, idx in (("T", [0, 1]), ("K", [1]), ("M", [0]))}
        # Every kommun cell's entry at once, in [kommun, year] order (a demo build has
        # 270,000 of them: one call per value cost a second).
        kommun_entries = {g: self._entries(ind, prof, [g] * n_k * n_y, *(a.ravel() for a in by_gender[g]),
                                           missing.ravel(), aggregate=False)
                          for g in genders}
        parity_of = parity.tolist()
        lan_of = np.array(self.lan_codes)
        lan_masks = [(lan, lan_of == lan) for lan in sorted(set(self.lan_codes))]
        objects, sums = [], []  # sums: the aggregated cells, their entries made at once below
        summed: dict[tuple, list[list[float]]] = {}  # (area, parity) -> per gender [n, d] by year

        def area_sums(area: str, mask: np.ndarray, key: int) -> list[list[float]]:
            # Each row of the transposed copy is a[mask, y] in order: the same sums as one
            # sum per year, for all years at once.
            if (area, key) not in summed:
                summed[area, key] = [[np.ascontiguousarray(a[mask].T).sum(axis=1).tolist()
                                      for a in by_gender[g]] for g in genders]
            return summed[area, key]
        for y, year in enumerate(self.years):
            if (prof.first_year and year < prof.first_year) or (prof.last_year and year > prof.last_year):
                continue
            for k, code in enumerate(self.kommun_codes):
                if prof.biennial and (year + parity_of[k]) % 2:
                    continue
                objects.append({"kpi": ind.source_id, "municipality": code, "period": year,
                                "values": [kommun_entries[g][k * n_y + y] for g in genders]})
            measured = np.ones(n_k, dtype=bool)
            if prof.biennial:
                measured = (year + parity) % 2 == 0
            groups = [("0000", measured)] + [("00" + lan, measured & in_lan)
                                             for lan, in_lan in lan_masks]
            for area, mask in groups:
                if not mask.any():
                    continue
                values = [None] * len(genders)
                cells = area_sums(area, mask, year % 2 if prof.biennial else 0)
                sums += [(values, i, g, cells[i][0][y], cells[i][1][y]) for i, g in enumerate(genders)]
                objects.append({"kpi": ind.source_id, "municipality": area, "period": year,
                                "values": values})
        if sums:
            places, positions, cells, n, d = zip(*sums)
            entries = self._entries(ind, prof, list(cells), np.array(n), np.array(d),
                                    np.zeros(len(n), dtype=bool), aggregate=True)
            for values, i, entry in zip(places, positions, entries):
                values[i] = entry
        return objects

    def _numerators(self, ind: Indicator, prof: Profile, den: np.ndarray) -> np.ndarray:
        s = self.structure
        rng = stable_rng("draw", ind.id)
        n_k, n_y = den.shape[:2]
        u = rng.normal(0, prof.spread, n_k)
        linear = (prof.disadvantage * s["disadvantage"].to_numpy() + prof.urban * s["urban"].to_numpy()
                  + u)[:, None, None]
        years = np.array(self.years, dtype=float)[None, :, None]
        linear = linear + prof.trend * (years - 2020) + np.array([-0.5, 0.5])[None, None, :] * prof.girls
        linear = linear + rng.normal(0, 0.05, (n_k, n_y, 2)) * (prof.kind != "mean")
        if prof.kind == "proportion":
            logit = np.log(prof.level / (1 - prof.level)) + linear
            p = 1 / (1 + np.exp(-logit))
            return rng.binomial(den.astype(np.int64), p).astype(float)
        if prof.kind in ("rate", "count_rate"):
            rate = prof.level * np.exp(linear)
            return rng.poisson(rate * den).astype(float)
        if prof.kind == "cost" and prof.parts:
            return sum(self._numerators(self._indicator(part), profile_for(part), den)
                       for part in prof.parts)
        if prof.kind == "cost":  # total SEK: lumps of care, each `unit_cost`
            units = rng.poisson(prof.level * np.exp(linear) * den / prof.unit_cost)
            return units * prof.unit_cost
        if prof.kind == "mean":
            sampling = prof.mean_sd / np.sqrt(np.maximum(den, 1.0))
            means = prof.level + linear + rng.normal(0, 1, den.shape) * sampling
            return means * den
        if prof.kind == "population_share" and prof.numerator_band:
            return self.band(*prof.numerator_band).astype(float)
        return den.copy()  # population_count: the band itself

    @staticmethod
    def _entries(ind: Indicator, prof: Profile, genders: list[str], n: np.ndarray,
                 d: np.ndarray, missing: np.ndarray, aggregate: bool) -> list[dict]:
        """Kolada's value entries for cells (numerator, denominator): missing, suppressed
        for privacy (kommun cells only, as Kolada does), or the value rounded as Kolada
        publishes it."""
        kind = prof.kind
        divides = kind not in ("count_rate", "population_count")
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "rate":
                value = n / d * ind.multiplier
            elif kind in ("mean", "cost"):
                value = n / d
            elif divides:  # proportion, population_share: numerator band over the population
                value = 100 * n / d
            else:
                value = n
        privacy = np.zeros(len(n), dtype=bool)
        if not aggregate:
            privacy = (kind == "proportion") & (d < 15)
            if prof.small_count_privacy:
                privacy |= (n >= 1) & (n <= 4)
        status = np.select([missing, privacy, divides & (d == 0)], ["Missing", "Privacy", "Missing"], "")
        ok = status == ""
        if kind in ("count_rate", "population_count", "cost"):
            shown = np.rint(np.where(ok, value, 0.0)).astype(np.int64).tolist()
        else:
            digits = np.where((kind == "rate") & (np.abs(value) < 10), 2, 1)
            shown = _round(np.where(ok, value, 0.0), digits).tolist()
        return [{"count": 1, "gender": g, "status": s, "value": None if s else x, "isdeleted": False}
                for g, s, x in zip(genders, status.tolist(), shown)]

    # --- SCB ------------------------------------------------------------------------------
    @cached_property
    def civil_population(self) -> np.ndarray:
        """Population by civil status [OG, G, SK, ÄNKL][kommun, year, age, sex]; parts add up.

        Children are all unmarried; adult shares grow with age.
        """
        pop = self.population
        ages = np.arange(MAX_AGE + 1)
        adult = ages >= 18
        married_share = np.where(adult, np.minimum(0.55, 0.02 * (ages - 18)), 0.0)
        divorced_share = np.where(adult, np.minimum(0.12, 0.004 * np.maximum(ages - 25, 0)), 0.0)
        widowed_share = np.where(ages >= 80, 0.3, 0.0)
        shape = (1, 1, MAX_AGE + 1, 1)
        married = np.floor(pop * married_share.reshape(shape))
        divorced = np.floor(pop * divorced_share.reshape(shape))
        widowed = np.floor(pop * widowed_share.reshape(shape))
        unmarried = pop - married - divorced - widowed
        return np.stack([unmarried, married, divorced, widowed]).astype(np.int64)
