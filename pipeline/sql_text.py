"""Quoting for SQL text that DuckDB cannot take as a parameter (names, COMMENT ON)."""

from __future__ import annotations


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
