"""Choropleth maps from the simplified boundaries in `reports/geo.py` (no tiles, no script)."""

from __future__ import annotations

from dataclasses import dataclass

from reports.geo import MapLayer
from reports.svg import c, dots, esc

DOT_RADIUS = 2.5


@dataclass(frozen=True)
class Area:
    fill: str            # CSS class of the fill, e.g. "f-worse" or "q-4"
    title: str           # tooltip and accessible name
    mark: str = ""       # short text printed inside the area (a level, a count)
    href: str = ""       # a link (start page: county pages)


def choropleth(layer: MapLayer, areas: dict[str, Area], label: str, cls: str = "map") -> str:
    """Areas not in `areas` are drawn blank ("no data"), never left out."""
    shapes, marks = [], []
    for shape in layer.shapes:
        area = areas.get(shape.code) or Area("f-none", f"{shape.code}: uppgift saknas")
        if shape.path and layer.ref:
            mark = f'<use href="#{layer.ref}{shape.code}" class="{area.fill}"><title>{esc(area.title)}</title></use>'
        elif shape.path:
            mark = f'<path class="{area.fill}" d="{shape.path}"><title>{esc(area.title)}</title></path>'
        else:
            mark = (f'<circle class="{area.fill}" cx="{c(shape.label_x)}" cy="{c(shape.label_y)}" '
                    f'r="{DOT_RADIUS}"><title>{esc(area.title)}</title></circle>')
        if area.href:
            mark = f'<a href="{esc(area.href)}" aria-label="{esc(area.title)}">{mark}</a>'
        shapes.append(mark)
        if area.mark:
            marks.append(f'<text class="mk" x="{c(shape.label_x)}" y="{c(shape.label_y + 4)}" '
                         f'text-anchor="middle">{esc(area.mark)}</text>')
    linked = any(a.href for a in areas.values())
    role = 'role="group"' if linked else 'role="img"'
    return (f'<svg class="{cls}" viewBox="0 0 {c(layer.width)} {c(layer.height)}" '
            f'width="{c(layer.width)}" height="{c(layer.height)}" {role} aria-label="{esc(label)}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}'
            f'<g aria-hidden="true">{"".join(marks)}</g></svg>')


def choropleth_by_class(layer: MapLayer, areas: dict[str, Area], label: str, cls: str = "map") -> str:
    """The same map as `choropleth` with one path per colour class instead of one element per
    area (the national map of 290 kommuner on an indicator page): no tooltips, since the
    ranked table beside it has every kommun's number."""
    paths: dict[str, list[str]] = {}
    for shape in layer.shapes:
        fill = (areas.get(shape.code) or Area("f-none", "")).fill
        paths.setdefault(fill, []).append(shape.path or dots([(shape.label_x, shape.label_y)], DOT_RADIUS))
    body = "".join(f'<path class="{fill}" d="{"".join(d)}"/>' for fill, d in sorted(paths.items()))
    return (f'<svg class="{cls}" viewBox="0 0 {c(layer.width)} {c(layer.height)}" '
            f'width="{c(layer.width)}" height="{c(layer.height)}" role="img" aria-label="{esc(label)}" '
            f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def map_defs(layer: MapLayer) -> str:
    """The outlines of a referenced layer (`layer.ref`), once per page: a page with five
    maps of the same county carries its boundaries once instead of five times."""
    paths = "".join(f'<path id="{layer.ref}{s.code}" d="{s.path}"/>' for s in layer.shapes if s.path)
    return (f'<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false" '
            f'xmlns="http://www.w3.org/2000/svg"><defs>{paths}</defs></svg>')
