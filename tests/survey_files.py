"""Crafted survey files in the vendors' wire formats, for the survey tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from sources.surveys.codebook import load_codebooks
from transforms.survey_codebook import Codebook
from tests.conftest import CATALOG

CODEBOOKS = CATALOG / "surveys"


def codebooks() -> dict[str, Codebook]:
    return load_codebooks(CODEBOOKS)


def lupp_rows(cells: list[tuple[str, str, str, int]], *, seed: int = 0, year: int = 2023,
              start: int = 1) -> list[dict[str, str]]:
    """Respondent rows for a LUPP-layout file: cells are (kommun, grade text, sex text, n)."""
    book = codebooks()["lupp"]
    rng = np.random.default_rng(seed)
    rows, rid = [], start
    for kommun, grade, sex, n in cells:
        for _ in range(n):
            row = {"Respondent": f"R{rid:05d}", "Kommunkod": kommun, "Årskurs": grade, "Kön": sex,
                   "Enkätår": str(year), "Vikt": "1,0"}
            for item in book.scale_items:
                spec = book.item(item)
                row[item] = str(int(rng.integers(spec.low, spec.high + 1)))
            rows.append(row)
            rid += 1
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], *, sep: str = ";",
              encoding: str = "latin-1", newline: str = "\r\n") -> Path:
    header = list(rows[0])
    lines = [sep.join(header)] + [sep.join(r[c] for c in header) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def sthlm_frame(n: int, *, seed: int = 0, kommun: float = 180.0, year: float = 2024.0) -> pl.DataFrame:
    """An SPSS-like frame in the Stockholmsenkäten layout (numeric codes)."""
    book = codebooks()["sthlm"]
    rng = np.random.default_rng(seed)
    data = {"lopnr": np.arange(1, n + 1, dtype=float), "Kommun": np.full(n, kommun),
            "ARSKURS": rng.integers(1, 3, n).astype(float), "F2": rng.integers(1, 3, n).astype(float),
            "ar": np.full(n, year)}
    for item in book.scale_items:
        data[item] = rng.integers(1, 5, n).astype(float)
    return pl.DataFrame(data)


def write_sav(path: Path, frame: pl.DataFrame, labels: dict | None = None) -> Path:
    import pyreadstat

    path.parent.mkdir(parents=True, exist_ok=True)
    default = {"F2": {1.0: "Pojke", 2.0: "Flicka", 3.0: "Annat"},
               "ARSKURS": {1.0: "Åk 9", 2.0: "Gy 2"}}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels if labels is not None else default)
    return path


def one_scale_codebooks(scale: str = "foraldraskap") -> dict[str, Codebook]:
    """The LUPP-like codebook with one scale (two cuts): the same files, a fifth of the audit."""
    book = codebooks()["lupp"].model_dump()
    book["scales"] = {scale: book["scales"][scale]}
    return {"lupp": Codebook.model_validate(book)}


def kommun_names() -> dict[str, str]:
    from sources.geography import load_kommuner

    kommuner = load_kommuner()
    return dict(zip(kommuner["kommun_code"].to_list(), kommuner["kommun_name"].to_list(), strict=True))


GRADES_SEXES = [("Åk 9", "Tjej"), ("Åk 9", "Kille"), ("Gy 2", "Tjej"), ("Gy 2", "Kille")]


def wave_cells(sizes: dict[str, int], seed: int = 0) -> list[tuple[str, str, str, int]]:
    """(kommun, grade, sex, n) cells for kommuner of the given sizes, split over grades and
    sexes at random (åk 9 a little larger than gy 2, as in the surveys)."""
    rng = np.random.default_rng(seed)
    out = []
    for kommun, n in sizes.items():
        for (grade, sex), m in zip(GRADES_SEXES, rng.multinomial(n, [0.3, 0.3, 0.2, 0.2]), strict=True):
            if m:
                out.append((kommun, grade, sex, int(m)))
    return out


def regional_sizes(lans: tuple[str, ...], seed: int = 3) -> dict[str, int]:
    """Pupils per kommun for every kommun of the given län: a few hundred in most, a few
    dozen in the smallest (lognormal, at least 5)."""
    rng = np.random.default_rng(seed)
    codes = sorted(c for c in kommun_names() if c[:2] in lans)
    return {c: int(max(5, rng.lognormal(4.3, 0.8))) for c in codes}
