"""Templates for the four registers: `make templates` (python -m sources.registers.templates).

Each register gets an XLSX template (sheet "Register" with the Swedish headers and one
example row, sheet "Instruktioner" explaining every column) and a CSV template (UTF-8,
semicolons). The example rows pass the reader's checks, so a template filled in the same
way is read as it stands. Templates go to data/registers/mallar/, a subfolder the pipeline
does not read: copy a template into data/registers/, replace the example row and save.
The files are byte-identical from run to run.
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from sources.registers.folder import TEMPLATES
from sources.registers.layouts import REGISTERS, Column, Layout
from sources.registers.parse import parse_cell

FIXED_TIME = datetime(2025, 1, 1)
DEFAULT_FOLDER = Path(os.environ.get("UPPVAXT_REGISTERS_DIR")
                      or Path(__file__).resolve().parents[2] / "data" / "registers")


def template_name(layout: Layout, suffix: str) -> str:
    return f"{layout.name}_mall{suffix}"


def _typed(column: Column, text: str) -> object:
    """A cell as Excel should hold it: real dates and numbers, codes and names as text."""
    if column.kind in ("date", "number", "year", "score") and text:
        try:
            value = parse_cell(text, column, known=None)  # type: ignore[arg-type]
        except ValueError:
            value = None
        return text if value is None else value
    return text


def _cell_text(value: object, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.10g}"
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def write_xlsx(layout: Layout, path: Path, rows: list[dict[str, object]] | None = None,
               *, title: str | None = None) -> Path:
    """Sheet "Register" (headers, then `rows` by column name, or the example row) and sheet
    "Instruktioner"."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FIXED_TIME, "title": title or f"Mall: {layout.title}",
                         "comments": "uppvaxt – register"})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("Register")
    if rows is None:
        rows = [{c.name: _typed(c, c.example) for c in layout.columns}]
    for i, column in enumerate(layout.columns):
        sheet.write_string(0, i, column.header, bold)
        sheet.set_column(i, i, max(12, len(column.header) + 2),
                         day if column.kind == "date" else text if column.kind in ("kommun", "text") else None)
        for r, row in enumerate(rows, start=1):
            value = row.get(column.name)
            if isinstance(value, date):
                sheet.write_datetime(r, i, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, int | float):
                sheet.write_number(r, i, value)
            elif value:
                sheet.write_string(r, i, str(value), text)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("Instruktioner")
    notes.write_string(0, 0, layout.title, bold)
    notes.write_string(1, 0, layout.description)
    for i, heading in enumerate(("Kolumn", "Obligatorisk", "Vad den ska innehålla", "Exempel")):
        notes.write_string(3, i, heading, bold)
    for r, column in enumerate(layout.columns, start=4):
        notes.write_string(r, 0, column.header)
        notes.write_string(r, 1, "ja" if column.required else "nej")
        notes.write_string(r, 2, column.help)
        notes.write_string(r, 3, column.example)
    notes.set_column(0, 0, 22)
    notes.set_column(2, 2, 90)
    book.close()
    return path


def write_csv(layout: Layout, path: Path, rows: list[dict[str, object]] | None = None, *,
              delimiter: str = ";", encoding: str = "utf-8-sig", decimal_comma: bool = True) -> Path:
    """Headers and `rows` (or the example row) as CSV, CRLF line ends."""
    body = ([[_cell_text(r.get(c.name), decimal_comma) for c in layout.columns] for r in rows]
            if rows is not None else [[c.example for c in layout.columns]])
    lines = []
    for cells in [[c.header for c in layout.columns], *body]:
        lines.append(delimiter.join(f'"{v}"' if delimiter in v or '"' in v else v for v in cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_templates(folder: Path) -> list[Path]:
    """All templates into <folder>/mallar/; returns the paths written."""
    target = folder / TEMPLATES
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for layout in REGISTERS.values():
        written.append(write_xlsx(layout, target / template_name(layout, ".xlsx")))
        written.append(write_csv(layout, target / template_name(layout, ".csv")))
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    for path in write_templates(folder):
        print(path)
