"""A fast XLSX writer for the downloads: each sheet's rows are built as XML text by polars.

xlsxwriter writes one cell per Python call, and the downloads hold millions of cells: it
took more time than the rest of the report step. Here every column becomes its cells' XML
in one vectorised expression, the rows are joined, and the parts are zipped. What a
download needs and no more: text as inline strings, numbers with a format, the header row
as an Excel table (filter buttons, banded rows), a frozen first row and column, column
widths and the document's title. No cell is ever a formula (text is text), and the same
sheets give the same bytes (fixed times in the zip and the document properties).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

import polars as pl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 cannot hold at all (a stray control code in a source title).
ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
NUMBER_STYLE = 1  # cellXfs index of the decimal format in styles.xml
HEADER_STYLE = 2  # bold
# Stands for the row's number in a row's XML until the sheet numbers it: a control code that
# XML text never holds (ILLEGAL_XML removes it from every text cell).
ROW_MARK = "\x01"
ROWS_AT_A_TIME = 2000
# zlib's fastest level: a third of the default's (6) time for files a fifth larger (the demo's
# downloads 16.5 MB instead of 13.8 MB), and the workbooks are most of the downloads' work.
ZIP_LEVEL = 1


@dataclass
class Sheet:
    name: str
    frame: pl.DataFrame
    widths: dict[str, float] = field(default_factory=dict)
    table: bool = True  # header row as an Excel table with filters and banded rows
    freeze: tuple[int, int] = (0, 0)  # rows, columns
    rows: pl.Series | None = None  # the frame's row_xml when made beforehand


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: pl.Expr) -> pl.Expr:
    return (value.str.replace_all(ILLEGAL_XML, "").str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True))


def _cells(name: str, dtype: pl.DataType, letter: str) -> pl.Expr:
    """The XML of one column's cells (empty where the value is null or not a number), with
    ROW_MARK for the row's number."""
    col, ref = pl.col(name), f'r="{letter}{ROW_MARK}"'
    if dtype.is_float():
        xml = pl.format(f'<c {ref} s="{NUMBER_STYLE}"><v>{{}}</v></c>', col.cast(pl.String))
        return pl.when(col.is_finite()).then(xml).otherwise(pl.lit(""))
    if dtype.is_integer():
        xml = pl.format(f'<c {ref}><v>{{}}</v></c>', col.cast(pl.String))
        return pl.when(col.is_not_null()).then(xml).otherwise(pl.lit(""))
    if dtype == pl.Boolean:
        xml = pl.format(f'<c {ref} t="b"><v>{{}}</v></c>', col.cast(pl.Int8).cast(pl.String))
        return pl.when(col.is_not_null()).then(xml).otherwise(pl.lit(""))
    text = _text(col.cast(pl.String))
    xml = pl.format(f'<c {ref} t="inlineStr"><is><t xml:space="preserve">{{}}</t></is></c>', text)
    return pl.when(col.is_not_null()).then(xml).otherwise(pl.lit(""))


def row_xml(frame: pl.DataFrame) -> pl.Series:
    """Each row's <row> element with ROW_MARK where its number goes: made once for a table
    that many sheets are cut from (the downloads), numbered per sheet (`Sheet.rows`)."""
    cells = [_cells(name, dtype, column_letter(i)) for i, (name, dtype) in enumerate(frame.schema.items())]
    return frame.select(pl.format(f'<row r="{ROW_MARK}">{{}}</row>', pl.concat_str(cells))
                        .alias("xml")).to_series()


def _rows(sheet: Sheet) -> Iterator[str]:
    """<row> elements of the data, row 2 onwards, a few thousand rows at a time (a county's
    sheet is never one string in memory: it is zipped as it is made)."""
    if sheet.frame.height == 0:
        return
    xml = row_xml(sheet.frame) if sheet.rows is None else sheet.rows
    for start in range(0, xml.len(), ROWS_AT_A_TIME):
        # str.replace beats polars' replace_all with a value per row by half
        yield "".join([row.replace(ROW_MARK, str(n)) for n, row in
                       enumerate(xml.slice(start, ROWS_AT_A_TIME).to_list(), start=start + 2)])


def _header(frame: pl.DataFrame) -> str:
    # Bold in every viewer: not all of them draw an Excel table's style.
    cells = "".join(f'<c r="{column_letter(i)}1" s="{HEADER_STYLE}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{escape(re.sub(ILLEGAL_XML, '', name))}</t></is></c>"
                    for i, name in enumerate(frame.columns))
    return f'<row r="1">{cells}</row>'


def _extent(sheet: Sheet) -> str:
    last = column_letter(max(sheet.frame.width, 1) - 1)
    return f"A1:{last}{max(sheet.frame.height, 1) + 1}"  # a table needs a data row


def _sheet_xml(sheet: Sheet, table_rel: str | None) -> Iterator[str]:
    rows, cols = sheet.freeze
    view = ""
    if rows or cols:
        top_left = f"{column_letter(cols)}{rows + 1}"
        pane = "bottomRight" if rows and cols else ("bottomLeft" if rows else "topRight")
        split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
        view = (f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>')
    widths = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{sheet.widths[name]:.2f}" customWidth="1"/>'
                     for i, name in enumerate(sheet.frame.columns) if name in sheet.widths)
    yield (f'{HEADER}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
           f'<dimension ref="{_extent(sheet)}"/>'
           f'<sheetViews><sheetView workbookViewId="0">{view}</sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/>'
           + (f"<cols>{widths}</cols>" if widths else "")
           + f"<sheetData>{_header(sheet.frame)}")
    yield from _rows(sheet)
    yield ("</sheetData>"
           '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
           + (f'<tableParts count="1"><tablePart r:id="{table_rel}"/></tableParts>' if table_rel else "")
           + "</worksheet>")


def _table_xml(sheet: Sheet, number: int) -> str:
    extent = _extent(sheet)
    columns = "".join(f'<tableColumn id="{i + 1}" name={quoteattr(re.sub(ILLEGAL_XML, "", name))}/>'
                      for i, name in enumerate(sheet.frame.columns))
    return (f'{HEADER}<table xmlns="{MAIN}" id="{number}" name="Tabell{number}" '
            f'displayName="Tabell{number}" ref="{extent}" totalsRowShown="0">'
            f'<autoFilter ref="{extent}"/><tableColumns count="{sheet.frame.width}">{columns}</tableColumns>'
            '<tableStyleInfo name="TableStyleLight1" showFirstColumn="0" showLastColumn="0" '
            'showRowStripes="1" showColumnStripes="0"/></table>')


def _styles(decimals: int) -> str:
    fmt = "0." + "0" * decimals if decimals else "0"
    return (f'{HEADER}<styleSheet xmlns="{MAIN}">'
            f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{fmt}"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>")


def _core(title: str, subject: str, author: str, created: datetime) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'{HEADER}<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(title)}</dc:title><dc:subject>{escape(subject)}</dc:subject>"
            f"<dc:creator>{escape(author)}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>")


def workbook_bytes(sheets: list[Sheet], title: str = "", subject: str = "", author: str = "",
                   created: datetime = datetime(2000, 1, 1), decimals: int = 3) -> bytes:
    """An .xlsx file with `sheets` in order."""
    parts: dict[str, str | Iterator[str]] = {}  # a sheet's XML comes in pieces as it is zipped
    overrides = [("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
                 ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                 ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml")]
    sheet_entries, workbook_rels, tables = [], [], 0
    for n, sheet in enumerate(sheets, start=1):
        table_rel = None
        if sheet.table:
            tables += 1
            table_rel = "rId1"
            parts[f"xl/tables/table{tables}.xml"] = _table_xml(sheet, tables)
            parts[f"xl/worksheets/_rels/sheet{n}.xml.rels"] = (
                f'{HEADER}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                f'Type="{REL}/table" Target="../tables/table{tables}.xml"/></Relationships>')
            overrides.append((f"/xl/tables/table{tables}.xml",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"))
        parts[f"xl/worksheets/sheet{n}.xml"] = _sheet_xml(sheet, table_rel)
        overrides.append((f"/xl/worksheets/sheet{n}.xml",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"))
        sheet_entries.append(f'<sheet name={quoteattr(sheet.name)} sheetId="{n}" r:id="rId{n}"/>')
        workbook_rels.append(f'<Relationship Id="rId{n}" Type="{REL}/worksheet" '
                             f'Target="worksheets/sheet{n}.xml"/>')
    styles_id = len(sheets) + 1
    workbook_rels.append(f'<Relationship Id="rId{styles_id}" Type="{REL}/styles" Target="styles.xml"/>')
    parts["xl/workbook.xml"] = (f'{HEADER}<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                                '<bookViews><workbookView/></bookViews>'
                                f'<sheets>{"".join(sheet_entries)}</sheets></workbook>')
    parts["xl/_rels/workbook.xml.rels"] = (f'{HEADER}<Relationships xmlns="{PKG_REL}">'
                                           f'{"".join(workbook_rels)}</Relationships>')
    parts["xl/styles.xml"] = _styles(decimals)
    parts["docProps/core.xml"] = _core(title, subject, author, created)
    parts["docProps/app.xml"] = (f'{HEADER}<Properties xmlns="http://schemas.openxmlformats.org/'
                                 'officeDocument/2006/extended-properties"><Application>uppvaxt'
                                 "</Application></Properties>")
    parts["_rels/.rels"] = (
        f'{HEADER}<Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>")
    content_types = (f'{HEADER}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
                     + "</Types>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in [("[Content_Types].xml", content_types), *parts.items()]:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = ZIP_LEVEL  # Python 3.11 and 3.12 have no public name for it
            with z.open(info, "w") as entry:  # deflate's output does not depend on the pieces
                for piece in [text] if isinstance(text, str) else text:
                    entry.write(piece.encode("utf-8"))
    return buffer.getvalue()
