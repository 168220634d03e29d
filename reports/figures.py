"""Plotly figures for the reports, as plain figure dicts.

A report holds hundreds of small figures; building them as `plotly.graph_objects` spends
most of the time validating properties. Plain dicts in Plotly's JSON schema are rendered
with `plotly.io.to_html(..., validate=False)` instead (see reports/model.py), and the
figure tests check the dicts.
"""

from __future__ import annotations

import polars as pl

from reports.labels import COMPARISON, COMPARISON_COLOUR, COMPARISON_SCORE, number

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def base_layout(**extra) -> dict:
    """A light layout without Plotly's default template (which adds ~7 kB per figure)."""
    axis = dict(showline=True, linecolor="#888", ticks="outside", tickcolor="#888",
                gridcolor="#e6e6e6", zeroline=False, automargin=True)
    layout = dict(font=dict(family=FONT, size=13, color="#222"), paper_bgcolor="white",
                  plot_bgcolor="white", margin=dict(l=10, r=10, t=30, b=40), xaxis=dict(axis),
                  yaxis=dict(axis), separators=", ", hoverlabel=dict(font=dict(family=FONT)),
                  showlegend=False)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def comparison_heatmap(cells: pl.DataFrame, indicator_order: list[tuple[str, str]],
                       kommun_order: list[tuple[str, str]]) -> dict:
    """Kommuner (rows) × indicators (columns) coloured by the comparison with riket.

    `cells`: indicator_id, area_code, compared_to_riket, value_text. `indicator_order`
    holds (id, short title); `kommun_order` (code, name).
    """
    lookup = {(r["indicator_id"], r["area_code"]): r for r in cells.iter_rows(named=True)}
    scale_codes = ["much_worse", "worse", "similar", "better", "much_better"]
    z, hover = [], []
    for code, name in kommun_order:
        z_row, hover_row = [], []
        for ind_id, ind_title in indicator_order:
            cell = lookup.get((ind_id, code))
            category = (cell["compared_to_riket"] if cell else None) or "not_compared"
            z_row.append(COMPARISON_SCORE.get(category))
            hover_row.append(f"<b>{name}</b><br>{ind_title}: {cell['value_text'] if cell else '–'}"
                             f"<br>Jämfört med riket (enkäter: alla svarande): {COMPARISON[category]}")
        z.append(z_row)
        hover.append(hover_row)
    colorscale = [[i / 4, COMPARISON_COLOUR[c]] for i, c in enumerate(scale_codes)]
    trace = dict(type="heatmap", z=z, x=[title for _, title in indicator_order],
                 y=[name for _, name in kommun_order], hovertext=hover, hoverinfo="text",
                 zmin=-2, zmax=2, colorscale=colorscale, xgap=2, ygap=2, showscale=False)
    layout = base_layout(height=260 + 24 * len(kommun_order), margin=dict(l=10, r=10, t=10, b=10),
                         plot_bgcolor=COMPARISON_COLOUR["not_compared"],
                         xaxis=dict(tickangle=-50, side="top", showline=False, ticks=""),
                         yaxis=dict(autorange="reversed", showline=False, ticks=""))
    return {"data": [trace], "layout": layout}


def _benchmark_line(value: float, label: str, dash: str, unit: str) -> tuple[dict, dict]:
    """A vertical benchmark line (shape) and an empty trace that puts it in the legend."""
    shape = dict(type="line", xref="x", yref="paper", x0=value, x1=value, y0=0, y1=1,
                 line=dict(color="#333", width=1.5, dash=dash))
    legend = dict(type="scatter", x=[None], y=[None], mode="lines", hoverinfo="skip",
                  line=dict(color="#333", width=1.5, dash=dash),
                  name=f"{label}: {number(value, unit)}")
    return shape, legend


def kommun_dots(rows: pl.DataFrame, lan_value: float | None, riket_value: float | None,
                lan_name: str, unit: str, national_name: str = "Riket") -> dict:
    """One indicator: each kommun's value with its 95 % interval, and the län and riket lines.

    `rows`: area_name, value, lower_95, upper_95, compared_to_riket (sorted for display).
    """
    names, values = rows["area_name"].to_list(), rows["value"].to_list()
    lower, upper = rows["lower_95"].to_list(), rows["upper_95"].to_list()
    has_ci = [lo is not None and hi is not None for lo, hi in zip(lower, upper, strict=True)]
    colours = [COMPARISON_COLOUR.get(c or "not_compared", "#999")
               for c in rows["compared_to_riket"].to_list()]
    hover = [f"{n}: {number(v, unit)} {unit}" + (f" (95 % KI {number(lo, unit)}–{number(hi, unit)})" if ok else "")
             for n, v, lo, hi, ok in zip(names, values, lower, upper, has_ci, strict=True)]
    dots = dict(
        type="scatter", x=values, y=names, mode="markers", hovertext=hover, hoverinfo="text",
        error_x=dict(type="data", symmetric=False, color="#555", thickness=1.2, width=3,
                     array=[(hi - v) if ok else 0 for v, hi, ok in zip(values, upper, has_ci, strict=True)],
                     arrayminus=[(v - lo) if ok else 0 for v, lo, ok in zip(values, lower, has_ci, strict=True)]),
        marker=dict(size=9, color=colours, line=dict(color="#333", width=0.8)),
        name="Kommun", showlegend=False)
    shapes, traces = [], [dots]
    for value, label, dash in ((lan_value, lan_name, "dash"), (riket_value, national_name, "dot")):
        if value is not None:
            shape, legend = _benchmark_line(value, label, dash, unit)
            shapes.append(shape)
            traces.append(legend)
    layout = base_layout(height=110 + 22 * max(len(names), 3), shapes=shapes, showlegend=True,
                         legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                         margin=dict(l=10, r=20, t=40, b=40),
                         yaxis=dict(autorange="reversed", showgrid=False),
                         xaxis=dict(title=dict(text=unit)))
    return {"data": traces, "layout": layout}


def funnel(points: pl.DataFrame, limits: pl.DataFrame, unit: str, lan_name: str) -> dict:
    """All kommuner's values against their denominators, with limits around riket.

    `points`: area_name, value, denominator, in_county; `limits`: marts.funnel_limit rows.
    Limits adjusted for over-dispersion are drawn dashed when τ² > 0.
    """
    x = limits["denominator"].to_list()
    adjusted = limits["tau2"][0] > 0
    traces = []
    for suffix, colour, label in (("_998", "#888", "99,8 %"), ("_95", "#444", "95 %")):
        for side in ("lower", "upper"):
            column = f"{side}{suffix}{'_od' if adjusted else ''}"
            traces.append(dict(type="scatter", x=x, y=limits[column].to_list(), mode="lines",
                               hoverinfo="skip", legendgroup=label, showlegend=side == "lower",
                               line=dict(color=colour, width=1.2, dash="dash" if adjusted else "solid"),
                               name=f"Gräns {label}"))
    benchmark = limits["benchmark"][0]
    traces.append(dict(type="scatter", x=[x[0], x[-1]], y=[benchmark, benchmark], mode="lines",
                       line=dict(color="#222", width=1.5, dash="dot"), hoverinfo="skip",
                       name=f"Riket {number(benchmark, unit)}"))
    for in_county, colour, size, label in ((False, "#bbbbbb", 5, "Övriga kommuner"),
                                           (True, "#1f4e9a", 8, lan_name)):
        subset = points.filter(pl.col("in_county") == in_county)
        traces.append(dict(
            type="scatter", x=subset["denominator"].to_list(), y=subset["value"].to_list(),
            mode="markers", hoverinfo="text", name=label,
            hovertext=[f"{n}: {number(v, unit)}" for n, v in
                       zip(subset["area_name"], subset["value"], strict=True)],
            marker=dict(size=size, color=colour,
                        line=dict(color="#333", width=0.5 if in_county else 0))))
    layout = base_layout(height=360, showlegend=True,
                         legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                         margin=dict(l=10, r=20, t=40, b=40),
                         xaxis=dict(type="log", title=dict(text="Nämnare (logaritmisk skala)")),
                         yaxis=dict(title=dict(text=unit)))
    return {"data": traces, "layout": layout}
