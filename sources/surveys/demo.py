"""Two synthetic survey waves for demo mode, written into the survey inbox.

- `sthlm_<year>_demo.sav`: a Stockholmsenkäten-like SPSS file for Stockholms län (01),
  numeric codes with value labels (kommun names, grade, sex, response texts).
- `lupp_<year>_demo.csv`: a LUPP-like file for Östergötland (05) and Halland (13):
  semicolons, Latin-1, CRLF, decimal commas in the weight, text codes for grade and sex.

Pupils in åk 9 and gy 2 are drawn from the demo world's 15- and 17-year-olds with a
participation rate that varies by kommun, so the smallest kommuner give cells under 10.
Each scale's answers follow a latent score that moves with the kommun's `disadvantage`
(the factor behind the registry indicators): more disadvantage, more risk and less
protection. The items are then cut into the codebook's codes, reversed where the codebook
reverses them, with a few missing answers. Everything is seeded by labels
(`stable_rng`), so the same world gives the same files; the SPSS header's creation time
is fixed, so both files are byte-identical from run to run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from sources.demo.world import DEMO_LABEL, DemoWorld, stable_rng
from transforms.survey_codebook import Codebook, Scale

AGES = {"ak9": 15, "gy2": 17}
# SPSS system-file header: creation date (9 bytes) and time (8 bytes) at these offsets.
SAV_DATE = slice(92, 101)
SAV_TIME = slice(101, 109)
FIXED_STAMP = (b"01 Jan 24", b"00:00:00")
ITEM_MISSING = 0.03
# Scale-specific differences between girls and boys (positive: girls score higher).
GIRLS = {"psykiska_besvar": 0.45, "fritid": -0.15, "skola_positiv": 0.1, "narsamhalle": -0.05}


def _good_when_high(scale: Scale) -> bool:
    cut = next(iter(scale.cuts.values()))
    high = cut.op in (">", ">=")
    return high if cut.kind == "protective" else not high


def _respondents(world: DemoWorld, lans: list[str], year: int, participation: float,
                 label: str) -> pl.DataFrame:
    """One row per responding pupil: kommun, grade, sex (K/M) and a weight."""
    y = world.years.index(year)
    rows = []
    for k, (code, lan) in enumerate(zip(world.kommun_codes, world.lan_codes, strict=True)):
        if lan not in lans:
            continue
        rng = stable_rng("survey", label, code)
        # Not every kommun takes part (Stockholmsenkäten 2018: 23 of 26), and in some only a
        # few schools do.
        if rng.random() < 0.1:
            continue
        rate = float(np.clip(participation * rng.uniform(0.25, 1.3), 0.05, 0.95))
        for grade, age in AGES.items():
            # Upper secondary pupils often go to school elsewhere: fewer answer at home.
            grade_rate = rate * (0.6 if grade == "gy2" else 1.0)
            for sex, s in (("M", 0), ("K", 1)):
                cohort = int(world.population[k, y, age, s])
                n = int(rng.binomial(cohort, grade_rate))
                rows.append({"kommun": code, "grade": grade, "sex": sex, "n": n,
                             "weight": cohort / n if n else 0.0})
    cells = pl.DataFrame(rows)
    return cells.select(pl.exclude("n").repeat_by("n")).explode(pl.all()) \
        if cells.height else cells


def _answers(world: DemoWorld, book: Codebook, people: pl.DataFrame, label: str) -> dict[str, np.ndarray]:
    """Item codes per respondent (codebook codes; missing as None-marked NaN)."""
    s = world.structure
    disadvantage = dict(zip(s["kommun_code"].to_list(), s["disadvantage"].to_list(), strict=True))
    rng = stable_rng("survey-items", label)
    # A kommun effect besides disadvantage, so that the link is clear but not exact.
    local = {c: stable_rng("survey-local", label, c).normal(0, 0.2) for c in disadvantage}
    dis = np.array([disadvantage[c] for c in people["kommun"].to_list()])
    dis = dis - np.array([local[c] for c in people["kommun"].to_list()]) / 0.35
    girl = (people["sex"] == "K").to_numpy().astype(float)
    gy2 = (people["grade"] == "gy2").to_numpy().astype(float)
    n = people.height
    general = rng.normal(0, 0.6, n)  # shared by all scales: some pupils fare worse overall
    out: dict[str, np.ndarray] = {}
    for name, scale in book.scales.items():
        goodness = (-0.35 * dis + GIRLS.get(name, 0.0) * (2 * girl - 1) * (1 if _good_when_high(scale) else -1)
                    - 0.1 * gy2 - general + rng.normal(0, 0.8, n))
        latent = goodness if _good_when_high(scale) else -goodness
        for item in scale.items:
            spec = book.item(item)
            levels = spec.high - spec.low + 1
            cuts = np.linspace(-1.1, 1.1, levels - 1) + rng.normal(0, 0.15)
            code = spec.low + np.searchsorted(cuts, latent + rng.normal(0, 0.7, n)).astype(float)
            if item in scale.reverse:
                code = spec.low + spec.high - code
            code[rng.random(n) < ITEM_MISSING] = np.nan
            out[item] = code
    return out


def _frame(world: DemoWorld, book: Codebook, lans: list[str], year: int,
           participation: float) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    label = f"{book.id}-{year}"
    people = _respondents(world, lans, year, participation, label).sort("kommun", "grade", "sex")
    rng = stable_rng("survey-order", label)
    people = people[rng.permutation(people.height).tolist()]  # as a vendor's file: not sorted
    unknown_sex = rng.random(people.height) < 0.015
    return people.with_columns(unknown_sex=pl.Series(unknown_sex)), _answers(world, book, people, label)


def write_sthlm(world: DemoWorld, book: Codebook, kommuner: pl.DataFrame, path: Path, year: int,
                stored: dict[str, str] | None = None) -> Path:
    import pyreadstat

    people, answers = _frame(world, book, ["01"], year, participation=0.7)
    cols = book.columns
    names = dict(zip(kommuner["kommun_code"].to_list(), kommuner["kommun_name"].to_list(), strict=True))
    data = {
        cols.respondent_id: np.arange(1, people.height + 1, dtype=float),
        cols.municipality: people["kommun"].cast(pl.Int32).cast(pl.Float64).to_numpy(),
        cols.grade: people["grade"].replace_strict({"ak9": 1.0, "gy2": 2.0}).to_numpy(),
        cols.sex: np.where(people["unknown_sex"].to_numpy(), 3.0,
                           people["sex"].replace_strict({"M": 1.0, "K": 2.0}).to_numpy()),
        cols.year: np.full(people.height, float(year)),
    }
    for item, codes in answers.items():
        data[item] = np.where(np.isnan(codes), 9.0, codes)
    frame = pl.DataFrame(data)
    kommun_labels = {float(int(c)): names[c] for c in sorted(set(people["kommun"].to_list()))}
    response = {1.0: "Stämmer inte alls", 2.0: "Stämmer ganska dåligt", 3.0: "Stämmer ganska bra",
                4.0: "Stämmer helt", 8.0: "Vet inte", 9.0: "Ej svar"}
    labels = {cols.municipality: kommun_labels,
              cols.grade: {1.0: "Åk 9", 2.0: "Gy 2"},
              cols.sex: {1.0: "Pojke", 2.0: "Flicka", 3.0: "Annat/vill inte svara"},
              **{item: response for item in answers}}
    column_labels = {item: book.items[item].label for item in answers}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pyreadstat.write_sav(frame, str(tmp), file_label=DEMO_LABEL, column_labels=column_labels,
                         variable_value_labels=labels)
    raw = bytearray(tmp.read_bytes())
    raw[SAV_DATE], raw[SAV_TIME] = FIXED_STAMP
    tmp.unlink()
    return _write_if_changed(path, bytes(raw), stored)


def write_lupp(world: DemoWorld, book: Codebook, path: Path, year: int,
               stored: dict[str, str] | None = None) -> Path:
    people, answers = _frame(world, book, ["05", "13"], year, participation=0.45)
    cols = book.columns
    rng = stable_rng("survey-lupp-missing", year)
    sex_text = np.where(people["unknown_sex"].to_numpy(),
                        np.where(rng.random(people.height) < 0.5, "Annat", "Vill inte svara"),
                        people["sex"].replace_strict({"K": "Tjej", "M": "Kille"}).to_numpy())
    header = [cols.respondent_id, cols.municipality, cols.grade, cols.sex, cols.year, cols.weight,
              *answers]
    columns = [
        [f"L{year % 100}-{i:06d}" for i in range(1, people.height + 1)],
        people["kommun"].to_list(),
        people["grade"].replace_strict({"ak9": "Åk 9", "gy2": "Gy 2"}).to_list(),
        sex_text.tolist(),
        [str(year)] * people.height,
        [f"{w:.3f}".replace(".", ",") for w in people["weight"].to_list()],
    ]
    for codes in answers.values():
        # Vendors mix empty cells and an explicit "vet inte" code for missing answers.
        blank = rng.random(len(codes)) < 0.5
        columns.append(["" if np.isnan(c) and b else ("99" if np.isnan(c) else str(int(c)))
                        for c, b in zip(codes, blank, strict=True)])
    lines = [";".join(header)] + [";".join(row) for row in zip(*columns, strict=True)]
    return _write_if_changed(path, ("\r\n".join(lines) + "\r\n").encode("latin-1"), stored)


def _write_if_changed(path: Path, content: bytes, stored: dict[str, str] | None = None) -> Path:
    """Leave an identical file alone, so the inbox sensor does not see a change; the same
    when it was read already (it has left the inbox for the private store): `stored` maps
    file name → sha256 of the files taken in."""
    if (stored or {}).get(path.name) == hashlib.sha256(content).hexdigest():
        return path
    if path.exists() and path.read_bytes() == content:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return path


def write_demo_surveys(inbox: Path, world: DemoWorld, kommuner: pl.DataFrame,
                       codebooks: dict[str, Codebook], stored: dict[str, str] | None = None) -> list[Path]:
    """Write both demo waves into `inbox` unless they were read already (`stored`: file
    name → sha256 in the private store); return their paths."""
    sthlm_year = 2024 if 2024 in world.years else world.years[-1]
    lupp_year = 2023 if 2023 in world.years else world.years[-1]
    return [
        write_sthlm(world, codebooks["sthlm"], kommuner, inbox / f"sthlm_{sthlm_year}_demo.sav", sthlm_year, stored),
        write_lupp(world, codebooks["lupp"], inbox / f"lupp_{lupp_year}_demo.csv", lupp_year, stored),
    ]
