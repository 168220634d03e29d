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
from sources.registers.layouts import REGISTERS, Layout
from sources.registers.parse import parse_cell

FIXED_TIME = datetime(2025, 1, 1)
DEFAULT_FOLDER = Path(os.environ.get("UPPVAXT_REGISTERS_DIR")
                      or Path(__file__).resolve().parents[2] / "data" / "registers")


def template_name(layout: Layout, suffix: str) -> str:
    return f"{layout.name}_mall{suffix}"


def _typed(layout: Layout, column) -> object:
    """The example cell as Excel should hold it: real dates and numbers, codes as text."""
    if column.kind in ("date", "number", "year", "score") and column.example:
        try:
            value = parse_cell(column.example, column, known=None)  # type: ignore[arg-type]
        except ValueError:
            value = None
        return column.example if value is None else value
    return column.example


def write_xlsx(layout: Layout, path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FIXED_TIME, "title": f"Mall: {layout.title}",
                         "comments": "uppvaxt – registermall"})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("Register")
    for i, column in enumerate(layout.columns):
        sheet.write_string(0, i, column.header, bold)
        sheet.set_column(i, i, max(12, len(column.header) + 2),
                         day if column.kind == "date" else text if column.kind in ("kommun", "text") else None)
        value = _typed(layout, column)
        if isinstance(value, date):
            sheet.write_datetime(1, i, datetime(value.year, value.month, value.day), day)
        elif isinstance(value, (int, float)):
            sheet.write_number(1, i, value)
        elif value:
            sheet.write_string(1, i, str(value), text)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("Instruktioner")
    notes.write_string(0, 0, layout.title, bold)
    notes.write_string(1, 0, layout.description)
    for i, title in enumerate(("Kolumn", "Obligatorisk", "Vad den ska innehålla", "Exempel")):
        notes.write_string(3, i, title, bold)
    for r, column in enumerate(layout.columns, start=4):
        notes.write_string(r, 0, column.header)
        notes.write_string(r, 1, "ja" if column.required else "nej")
        notes.write_string(r, 2, column.help)
        notes.write_string(r, 3, column.example)
    notes.set_column(0, 0, 22)
    notes.set_column(2, 2, 90)
    book.close()
    return path


def write_csv(layout: Layout, path: Path) -> Path:
    cells = [[c.header for c in layout.columns], [c.example for c in layout.columns]]
    quoted = [";".join(f'"{v}"' if ";" in v or '"' in v else v for v in row) for row in cells]
    path.write_text("\r\n".join(quoted) + "\r\n", encoding="utf-8-sig")
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
