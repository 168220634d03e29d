"""Plotly figures for the reports. Every builder takes sorted polars frames and returns a
figure; the renderer gives each a stable div id so the HTML is reproducible."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from reports.labels import COMPARISON, COMPARISON_COLOUR, COMPARISON_SCORE, number

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def base_layout(**extra) -> dict:
    """A light layout without Plotly's default template (which adds ~7 kB per figure)."""
    axis = dict(showline=True, linecolor="#888", ticks="outside", tickcolor="#888",
                gridcolor="#e6e6e6", zeroline=False)
    layout = dict(template="none", font=dict(family=FONT, size=13, color="#222"),
                  paper_bgcolor="white", plot_bgcolor="white",
                  margin=dict(l=10, r=10, t=30, b=40), xaxis=axis, yaxis=dict(axis),
                  separators=", ", hoverlabel=dict(font=dict(family=FONT)))
    layout.update(extra)
    return layout


def comparison_heatmap(cells: pl.DataFrame, indicator_order: list[tuple[str, str]],
                       kommun_order: list[tuple[str, str]]) -> go.Figure:
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
                             f"<br>Jämfört med riket: {COMPARISON[category]}")
        z.append(z_row)
        hover.append(hover_row)
    colorscale = [[i / 4, COMPARISON_COLOUR[c]] for i, c in enumerate(scale_codes)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[title for _, title in indicator_order], y=[name for _, name in kommun_order],
        hovertext=hover, hoverinfo="text", zmin=-2, zmax=2, colorscale=colorscale,
        xgap=2, ygap=2, showscale=False,
    ))
    height = 260 + 24 * len(kommun_order)
    fig.update_layout(**base_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                                    plot_bgcolor=COMPARISON_COLOUR["not_compared"]))
    fig.update_xaxes(tickangle=-50, side="top", showline=False, ticks="", automargin=True)
    fig.update_yaxes(autorange="reversed", showline=False, ticks="", automargin=True)
    return fig


def kommun_dots(rows: pl.DataFrame, lan_value: float | None, riket_value: float | None,
                lan_name: str, unit: str) -> go.Figure:
    """One indicator: each kommun's value with its 95 % interval, and the län and riket lines.

    `rows`: area_name, value, lower_95, upper_95, compared_to_riket (sorted for display).
    """
    names = rows["area_name"].to_list()
    values = rows["value"].to_list()
    lower, upper = rows["lower_95"].to_list(), rows["upper_95"].to_list()
    colours = [COMPARISON_COLOUR.get(c or "not_compared", "#999")
               for c in rows["compared_to_riket"].to_list()]
    has_ci = [lo is not None and hi is not None for lo, hi in zip(lower, upper, strict=True)]
    error = dict(type="data", symmetric=False,
                 array=[(hi - v) if ok else 0 for v, hi, ok in zip(values, upper, has_ci, strict=True)],
                 arrayminus=[(v - lo) if ok else 0 for v, lo, ok in zip(values, lower, has_ci, strict=True)],
                 color="#555", thickness=1.2, width=3)
    hover = [f"{n}: {number(v, unit)} {unit}" + (f" (95 % KI {number(lo, unit)}–{number(hi, unit)})" if ok else "")
             for n, v, lo, hi, ok in zip(names, values, lower, upper, has_ci, strict=True)]
    fig = go.Figure(go.Scatter(
        x=values, y=names, mode="markers", error_x=error, hovertext=hover, hoverinfo="text",
        marker=dict(size=9, color=colours, line=dict(color="#333", width=0.8)),
        name="Kommun", showlegend=False,
    ))
    shapes = []
    for value, label, dash in ((lan_value, lan_name, "dash"), (riket_value, "Riket", "dot")):
        if value is None:
            continue
        shapes.append(dict(type="line", xref="x", yref="paper", x0=value, x1=value, y0=0, y1=1,
                           line=dict(color="#333", width=1.5, dash=dash)))
        # An empty trace puts the benchmark line in the legend, where labels cannot collide.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", hoverinfo="skip",
                                 line=dict(color="#333", width=1.5, dash=dash),
                                 name=f"{label}: {number(value, unit)}"))
    height = 110 + 22 * max(len(names), 3)
    fig.update_layout(**base_layout(height=height, shapes=shapes, showlegend=True,
                                    legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                                    margin=dict(l=10, r=20, t=40, b=40)))
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)
    fig.update_xaxes(title=dict(text=unit))
    return fig
