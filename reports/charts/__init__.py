"""Inline SVG charts: spine, trend, ranking, funnel, maps and the coordination charts."""
