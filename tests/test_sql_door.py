"""The analyst's doors: views in the published file, marts.label, comments that list codes,
and the Dagster preview.

The views are checked on a small hand-made warehouse whose answers are worked out below;
the demo build's checks (every code labelled, every view in the DuckDB 1.5 CLI) are
`assert_*` functions here that tests/test_pipeline.py calls on its shared build.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
import pytest

from checks import codes
from checks.models import AREA_TYPES, DOMAINS, VERIFICATIONS, FactIndicator, IndicatorCatalog
from checks.registry import TABLES
from checks.validate import allowed_codes, column_docs
from pipeline.assets.labels import breakdown_labels, configured_code_lists, published_columns
from pipeline.factory import markdown_table
from pipeline.views import VIEW_TABLES, create_views
from pipeline.warehouse import publish, write_table
from sources.catalog import Indicator
from transforms.labels import MISSING_LABEL, CodeList, label_table, unlabelled

CLI = Path(sys.executable).parent / "duckdb"
VIEWS = ["marts.v_andringar", "marts.v_indikator", "marts.v_kommun_senaste", "marts.v_lan_senaste",
         "marts.v_liknande_kommuner", "marts.v_senaste_period", "marts.v_trend"]


def code_lists():
    return configured_code_lists(breakdown_labels({"ak9": "Årskurs 9", "gy2": "Gymnasiet år 2"}, [3]),
                                 {"folkmangd": "Folkmängd (logaritmerad)"})


# --- marts.label ---------------------------------------------------------------------------

def test_every_code_a_published_model_allows_has_a_label():
    assert unlabelled(code_lists(), published_columns()) == []


def test_label_dictionaries_match_the_codes_the_catalogue_and_models_allow():
    def literal(field: str) -> list[str]:
        return list(typing.get_args(Indicator.model_fields[field].annotation))

    assert list(codes.INDICATOR_DOMAIN) == DOMAINS == literal("domain")
    assert list(codes.VERIFICATION) == VERIFICATIONS == literal("verification")
    assert list(codes.AREA_TYPE) == AREA_TYPES
    assert set(literal("ci_method")) <= set(codes.CI_METHOD)
    assert list(codes.VALUE_TYPE) == literal("value_type")


def test_label_table_rows_follow_the_allowed_codes_in_list_order():
    columns = {"marts.fact_indicator": {"status": ["ok", "missing"], "breakdown": None},
               "marts.indicator": {"status": None}}
    lists = [CodeList("status", {"missing": "Saknas", "ok": "Redovisat", "extra": "Extra"},
                      ("fact_indicator.status",), {"ok": "Värdet redovisas."}),
             CodeList("breakdown", {"all": "Alla", "ak9": "Årskurs 9"}, ("fact_indicator.breakdown",))]
    table = label_table(lists, columns)
    assert table.rows() == [
        # breakdown has no fixed list: every code of its dictionary, in dictionary order
        ("marts.fact_indicator", "breakdown", "all", "Alla", None, "breakdown", 0),
        ("marts.fact_indicator", "breakdown", "ak9", "Årskurs 9", None, "breakdown", 1),
        # status allows ok and missing only: "extra" gets no row, the list's order is kept
        ("marts.fact_indicator", "status", "missing", "Saknas", None, "status", 0),
        ("marts.fact_indicator", "status", "ok", "Redovisat", "Värdet redovisas.", "status", 1),
    ]
    # marts.indicator.status is not named by the list, so it is not labelled with its codes
    assert "marts.indicator" not in table["table_name"].to_list()


def test_a_code_without_label_is_named_and_kept_visible():
    columns = {"marts.fact_indicator": {"status": ["ok", "provisional"], "trend": ["up"]}}
    lists = [CodeList("status", {"ok": "Redovisat"}, ("fact_indicator.status",))]
    assert unlabelled(lists, columns) == [
        "marts.fact_indicator.status: no label for provisional",
        "marts.fact_indicator.trend: no code list"]
    row = label_table(lists, columns).filter(pl.col("code") == "provisional").row(0, named=True)
    assert row["label"] == "provisional" and row["description"] == MISSING_LABEL


@pytest.mark.parametrize("lists, message", [
    ([CodeList("x", {"a": "A"}, ("fact_indicator.nope",))], "not a column of a published table"),
    ([CodeList("x", {"a": "A"}, ("nope.status",))], "not a column of a published table"),
    ([CodeList("x", {"a": " "}, ("fact_indicator.status",))], "empty labels"),
    ([CodeList("x", {"a": "A"}, ("fact_indicator.status",)),
      CodeList("y", {"a": "A"}, ("fact_indicator.status",))], "labelled by both"),
])
def test_label_table_refuses_bad_code_lists(lists, message):
    with pytest.raises(ValueError, match=message):
        label_table(lists, {"marts.fact_indicator": {"status": None}})


def test_breakdown_labels_come_from_codebooks_and_pooling():
    assert breakdown_labels({"ak9": "Årskurs 9"}, [3, 3, 2]) == {
        "all": "Alla (ingen nedbrytning)", "ak9": "Årskurs 9",
        "pooled_2y": "Sammanslaget över 2 år (sällsynta händelser)",
        "pooled_3y": "Sammanslaget över 3 år (sällsynta händelser)"}


# --- comments that list the allowed codes ----------------------------------------------------

@pytest.mark.parametrize("table", sorted(TABLES))
def test_coded_column_comments_list_exactly_the_codes_the_check_allows(table):
    model = TABLES[table][1]
    _, docs = column_docs(model)
    for name, column in model.to_schema().columns.items():
        allowed = allowed_codes(column)
        if allowed:
            assert docs[name].endswith(f"Koder: {', '.join(allowed)}; se marts.label"), (table, name)
            assert docs[name].count("Koder:") == 1


def test_comment_follows_the_check_when_the_codes_change():
    class Model(pa.DataFrameModel):
        status: pl.String = pa.Field(isin=["ok", "new_code"], description="Status för värdet.")
        plain: pl.String = pa.Field(description="Fritext")

    assert column_docs(Model)[1] == {"status": "Status för värdet. Koder: ok, new_code; se marts.label",
                                     "plain": "Fritext"}


# --- views on a hand-made warehouse ----------------------------------------------------------

def frame(model: type[pa.DataFrameModel], rows: list[dict]) -> pl.DataFrame:
    """Rows in the model's full schema; columns not given are empty."""
    schema = {name: col.dtype.type for name, col in model.to_schema().columns.items()}
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema)


def fact(indicator: str, area: str, area_type: str, period: int, value: float | None, **extra) -> dict:
    status = extra.pop("status", "ok" if value is not None else "missing")
    return {"indicator_id": indicator, "area_code": area, "area_type": area_type, "period": period,
            "sex": extra.pop("sex", "T"), "breakdown": extra.pop("breakdown", "all"), "value": value,
            "lower_95": None if value is None else value - 2, "upper_95": None if value is None else value + 2,
            "numerator": None if value is None else value, "denominator": None if value is None else 100.0,
            "unit": "%", "status": status, "red_red": False,
            "source_id": "survey:x" if area_type == "total" else f"kolada:{indicator}", **extra}


def write(db: Path, table: str, data: pl.DataFrame) -> None:
    layer, model = TABLES[table]
    comment, columns = column_docs(model)
    write_table(db, layer, table, data, comment=comment, column_comments=columns)


# Session-wide: a worker may interleave modules, which would build a module fixture twice.
@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """Östergötland with Linköping and Ödeshög; N15428 has no riket value in 2025, so its
    latest period is 2024; the survey indicator S1 is compared with all respondents."""
    target = published_demo_like(tmp_path_factory.mktemp("sqldoor"))
    con = duckdb.connect(str(target), read_only=True)
    try:
        counts = {view: con.sql(f"select count(*) from {view}").fetchall()[0][0] for view in VIEWS}
    finally:
        con.close()
    assert counts == {
        "marts.v_andringar": 0,  # a first publication: nothing to compare with
        "marts.v_indikator": 2, "marts.v_kommun_senaste": 3, "marts.v_lan_senaste": 2,
        "marts.v_liknande_kommuner": 1, "marts.v_senaste_period": 2, "marts.v_trend": 12}
    return target


def published_demo_like(folder: Path, history: dict[str, pl.DataFrame] | None = None) -> Path:
    """The hand-made warehouse of `published`, published with the publication `history`
    tables given ("meta.publication_change" …), or none (a first publication)."""
    from checks.publication_models import HISTORY_MODELS
    from pipeline.warehouse import ExtraTable

    db = folder / "warehouse.duckdb"
    write(db, "area", frame(TABLES["area"][1], [
        {"area_code": "00", "area_type": "riket", "area_name": "Riket", "lan_code": None},
        {"area_code": "05", "area_type": "lan", "area_name": "Östergötlands län", "lan_code": "05"},
        {"area_code": "0580", "area_type": "kommun", "area_name": "Linköping", "lan_code": "05"},
        {"area_code": "0509", "area_type": "kommun", "area_name": "Ödeshög", "lan_code": "05"},
        {"area_code": "ALLA", "area_type": "total", "area_name": "Alla svarande i enkäten", "lan_code": None},
    ]))
    write(db, "indicator", frame(TABLES["indicator"][1], [
        {"indicator_id": "N15428", "title": "Behöriga till yrkesprogram, andel (%)",
         "short_title": "Behöriga, åk 9", "strategic_factor": "skola", "factor": "protective",
         "polarity": "high_is_good", "unit": "%", "source": "kolada", "source_id": "N15428"},
        {"indicator_id": "S1", "title": "Förhöjd risk, skola", "short_title": "Risk, skola",
         "strategic_factor": "skola", "factor": "risk", "polarity": "low_is_good", "unit": "%",
         "source": "survey", "source_id": "S1"},
    ]))
    write(db, "fact_indicator", frame(FactIndicator, [
        fact("N15428", "00", "riket", 2023, 84.0), fact("N15428", "00", "riket", 2024, 85.0),
        fact("N15428", "00", "riket", 2025, None),
        fact("N15428", "05", "lan", 2023, 86.0), fact("N15428", "05", "lan", 2024, 87.0),
        fact("N15428", "0580", "kommun", 2023, 90.0, trend="cannot_be_calculated"),
        fact("N15428", "0580", "kommun", 2024, 91.0, compared_to_riket="much_better",
             compared_to_lan="better", trend="no_significant_change", rank_band="best_25", quintile=1),
        fact("N15428", "0580", "kommun", 2025, 92.0),
        fact("N15428", "0580", "kommun", 2024, 40.0, sex="K"),
        fact("N15428", "0509", "kommun", 2024, None, status="suppressed",
             status_reason="färre än 5 elever", compared_to_riket="not_compared"),
        fact("S1", "ALLA", "total", 2023, 30.0), fact("S1", "05", "lan", 2023, 33.0),
        fact("S1", "0580", "kommun", 2023, 35.0, compared_to_riket="worse"),
        fact("S1", "0580", "kommun", 2023, 45.0, breakdown="ak9"),
    ]))
    write(db, "peer_group", frame(TABLES["peer_group"][1], [
        {"kommun_code": "0580", "peer_code": "0509", "rank": 1, "distance": 1.5}]))
    write(db, "label", label_table(code_lists(), published_columns()))
    target = folder / "uppvaxt.duckdb"
    publish(db, target, extra={name: ExtraTable(frame, *column_docs(HISTORY_MODELS[name]))
                               for name, frame in (history or {}).items()})
    return target


def query(db: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl().to_dicts()
    finally:
        con.close()


def test_latest_period_is_the_last_with_a_national_value(published):
    assert query(published, "select * from marts.v_senaste_period") == [
        {"indicator_id": "N15428", "period": 2024}, {"indicator_id": "S1", "period": 2023}]


def test_kommun_latest_carries_names_benchmarks_and_swedish_words(published):
    rows = query(published, "select * from marts.v_kommun_senaste")
    assert [(r["kommun_name"], r["indicator_id"], r["period"]) for r in rows] == [
        ("Ödeshög", "N15428", 2024), ("Linköping", "N15428", 2024), ("Linköping", "S1", 2023)]
    odeshog, linkoping, survey = rows
    assert {k: linkoping[k] for k in ("kommun_code", "lan_code", "lan_name", "title", "short_title",
                                      "strategic_factor_label", "unit", "value", "lower_95",
                                      "upper_95", "numerator", "denominator", "lan_value",
                                      "riket_value", "riket_name", "status_label",
                                      "compared_to_riket_label", "compared_to_lan_label",
                                      "trend_label", "rank_band_label", "quintile")} == {
        "kommun_code": "0580", "lan_code": "05", "lan_name": "Östergötlands län",
        "title": "Behöriga till yrkesprogram, andel (%)", "short_title": "Behöriga, åk 9",
        "strategic_factor_label": "Måluppfyllelse i skolan", "unit": "%", "value": 91.0,
        "lower_95": 89.0, "upper_95": 93.0, "numerator": 91.0, "denominator": 100.0,
        "lan_value": 87.0, "riket_value": 85.0, "riket_name": "Riket", "status_label": "Redovisat",
        "compared_to_riket_label": "Mycket bättre", "compared_to_lan_label": "Bättre",
        "trend_label": "→ Ingen säker förändring", "rank_band_label": "Bästa fjärdedelen",
        "quintile": 1}
    # hidden is never 0: no value, the Swedish status and the reason travel with the row
    assert (odeshog["value"], odeshog["status_label"], odeshog["status_reason"],
            odeshog["compared_to_riket_label"]) == (None, "Dolt", "färre än 5 elever", "Ej jämförd")
    # a survey is compared with all its respondents, and the view says so
    assert (survey["value"], survey["lan_value"], survey["riket_value"], survey["riket_name"],
            survey["compared_to_riket_label"]) == (35.0, 33.0, 30.0, "Alla svarande i enkäten", "Sämre")


def test_trend_has_every_year_with_lan_and_riket_beside_it(published):
    rows = query(published, "select area_name, period, value, lan_value, riket_value, status_label "
                            "from marts.v_trend where indicator_id = 'N15428' and area_code in ('0580', '00')")
    assert rows == [
        {"area_name": "Riket", "period": 2023, "value": 84.0, "lan_value": None, "riket_value": 84.0, "status_label": "Redovisat"},
        {"area_name": "Riket", "period": 2024, "value": 85.0, "lan_value": None, "riket_value": 85.0, "status_label": "Redovisat"},
        {"area_name": "Riket", "period": 2025, "value": None, "lan_value": None, "riket_value": None, "status_label": "Saknas"},
        {"area_name": "Linköping", "period": 2023, "value": 90.0, "lan_value": 86.0, "riket_value": 84.0, "status_label": "Redovisat"},
        {"area_name": "Linköping", "period": 2024, "value": 91.0, "lan_value": 87.0, "riket_value": 85.0, "status_label": "Redovisat"},
        {"area_name": "Linköping", "period": 2025, "value": 92.0, "lan_value": None, "riket_value": None, "status_label": "Redovisat"},
    ]


def test_lan_latest_indicator_and_peer_views(published):
    assert query(published, "select lan_name, indicator_id, period, value, riket_value, riket_name "
                            "from marts.v_lan_senaste") == [
        {"lan_name": "Östergötlands län", "indicator_id": "N15428", "period": 2024, "value": 87.0,
         "riket_value": 85.0, "riket_name": "Riket"},
        {"lan_name": "Östergötlands län", "indicator_id": "S1", "period": 2023, "value": 33.0,
         "riket_value": 30.0, "riket_name": "Alla svarande i enkäten"}]
    assert query(published, "select indicator_id, factor_label, polarity_label, source_label "
                            "from marts.v_indikator") == [
        {"indicator_id": "N15428", "factor_label": "Skyddsfaktor", "polarity_label": "Högt värde är bättre",
         "source_label": "Kolada (RKA)"},
        {"indicator_id": "S1", "factor_label": "Riskfaktor", "polarity_label": "Lågt värde är bättre",
         "source_label": "Elevenkät"}]
    assert query(published, "select kommun_name, rank, peer_name from marts.v_liknande_kommuner") == [
        {"kommun_name": "Linköping", "rank": 1, "peer_name": "Ödeshög"}]


def test_views_and_their_columns_are_documented(published):
    assert_views_documented(published)
    comment = query(published, "select comment from duckdb_columns() where table_name = "
                               "'v_kommun_senaste' and column_name = 'compared_to_riket'")[0]["comment"]
    assert comment.endswith("Koder: much_better, better, similar, worse, much_worse, lower, "
                            "higher, not_compared; se marts.label")


def test_views_open_in_the_duckdb_15_cli(published):
    assert_views_open_in_cli(published)


def test_views_need_all_their_tables(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    write_table(warehouse, "marts", "fact_indicator", pl.DataFrame({"x": [1]}))
    with pytest.raises(RuntimeError, match="marts.label") as err:
        publish(warehouse, tmp_path / "uppvaxt.duckdb")
    assert all(t in str(err.value) for t in VIEW_TABLES if t != "marts.fact_indicator")
    assert not (tmp_path / "uppvaxt.duckdb").exists()


def test_a_broken_view_names_the_file_and_keeps_the_old_snapshot(published, tmp_path, monkeypatch):
    import pipeline.views as views

    broken = tmp_path / "views.sql"
    broken.write_text("CREATE VIEW marts.v_x AS SELECT nope FROM marts.area;", encoding="utf-8")
    monkeypatch.setattr(views, "VIEWS_SQL", broken)
    con = duckdb.connect()
    con.execute(f"ATTACH '{published}' AS pub (READ_ONLY)")
    con.execute(f"ATTACH '{tmp_path / 'copy.duckdb'}' AS cp")
    con.execute("COPY FROM DATABASE pub TO cp")
    with pytest.raises(RuntimeError, match=r"views\.sql: .*nope"):
        create_views(con, "cp")
    assert con.sql("select current_database()").fetchall() == [("memory",)]
    con.close()


# --- checks on the demo build (called from tests/test_pipeline.py) ---------------------------

def assert_every_code_labelled(db: Path) -> None:
    """Every distinct code in every coded column of the published demo build has a label."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        labels = con.sql("select table_name, column_name, code from marts.label").fetchall()
        labelled: dict[tuple[str, str], set[str]] = {}
        for table, column, code in labels:
            labelled.setdefault((table, column), set()).add(code)
        coded = set(labelled) | {(t, c) for t, cols in published_columns().items()
                                 for c, allowed in cols.items() if allowed is not None}
        existing = set(con.sql("select schema_name || '.' || table_name, column_name "
                               "from duckdb_columns() where database_name = current_database()").fetchall())
        assert coded <= existing, coded - existing
        unlabelled_codes = {}
        for table, column in sorted(coded):
            values = {str(v) for (v,) in con.sql(
                f'select distinct "{column}" from {table} where "{column}" is not null').fetchall()}
            if values - labelled.get((table, column), set()):
                unlabelled_codes[f"{table}.{column}"] = sorted(values - labelled.get((table, column), set()))
        assert unlabelled_codes == {}
        assert con.sql("select count(*) from marts.label where description = ?",
                       params=[MISSING_LABEL]).fetchall() == [(0,)]
    finally:
        con.close()


def assert_views_documented(db: Path) -> None:
    views = query(db, "select schema_name || '.' || view_name as name, comment from duckdb_views() "
                      "where not internal and database_name = current_database() order by 1")
    assert [v["name"] for v in views] == VIEWS
    assert all(len(v["comment"] or "") > 40 for v in views)
    bare = query(db, "select table_name, column_name from duckdb_columns() where database_name = "
                     "current_database() and table_name like 'v\\_%' escape '\\' and comment is null")
    assert bare == []


def assert_views_open_in_cli(db: Path) -> None:
    if not CLI.exists():
        pytest.skip("duckdb CLI not installed in this environment")
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.startswith("v1.5"), version.stdout
    sql = " union all ".join(f"select '{v}' as view, count(*) as n from {v}" for v in VIEWS)
    out = subprocess.run([str(CLI), "-readonly", str(db), "-json", "-c", sql],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    counts = {row["view"]: row["n"] for row in json.loads(out.stdout)}
    # every view answers; v_andringar is empty in a first publication (tests/test_changes.py
    # reads it with rows)
    assert set(counts) == set(VIEWS), counts
    assert all(n > 0 for v, n in counts.items() if v != "marts.v_andringar"), counts


def assert_demo_views_answer(db: Path) -> None:
    """The views agree with the fact table on the demo build."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        latest = con.sql("select * from marts.v_kommun_senaste").pl()
        expected = con.sql("""
            select f.area_code as kommun_code, f.indicator_id, f.period, f.value, r.value as riket_value
            from marts.fact_indicator f
            join (select indicator_id, max(period) as period from marts.fact_indicator
                  where area_type in ('riket', 'total') and sex = 'T' and breakdown = 'all'
                    and value is not null group by indicator_id) p using (indicator_id, period)
            left join marts.fact_indicator r on r.indicator_id = f.indicator_id and r.period = f.period
                 and r.area_type in ('riket', 'total') and r.sex = 'T' and r.breakdown = 'all'
            where f.area_type = 'kommun' and f.sex = 'T' and f.breakdown = 'all'""").pl()
    finally:
        con.close()
    key = ["kommun_code", "indicator_id"]
    assert latest.select(expected.columns).sort(key).equals(expected.sort(key))
    assert latest.filter(pl.col("indicator_id") == "N15428")["kommun_code"].n_unique() == 290
    assert latest["kommun_name"].null_count() == 0 and latest["lan_name"].null_count() == 0
    assert latest["status_label"].null_count() == 0
    shown = latest.filter(pl.col("compared_to_riket").is_not_null())
    assert shown["compared_to_riket_label"].null_count() == 0


# --- the Dagster preview ---------------------------------------------------------------------

def cells(line: str) -> list[str]:
    """Split a markdown table row on unescaped pipes and undo the escapes."""
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [re.sub(r"\\(.)", r"\1", p.strip()) for p in parts]


def sample_value(dtype: pl.DataType, i: int):
    if dtype == pl.String:
        return ["a | b", "rad\nbrytning", "*fet* _kursiv_ <b>", "x" * 80][i % 4]
    if dtype == pl.Boolean:
        return i % 2 == 0
    if dtype.is_float():
        return [1234567.0, 0.123456, -2.5, None][i % 4]
    return i


@pytest.mark.parametrize("table", sorted(TABLES))
def test_preview_is_a_markdown_table_with_intact_column_names(table):
    model = TABLES[table][1]
    schema = {name: col.dtype.type for name, col in model.to_schema().columns.items()}
    data = pl.DataFrame([{n: sample_value(t, i) for n, t in schema.items()} for i in range(12)],
                        schema=schema)
    lines = markdown_table(data).split("\n")
    assert cells(lines[0]) == list(schema)
    assert lines[1] == "|" + "|".join(["---"] * len(schema)) + "|"
    rows = lines[2:12]
    assert all(len(cells(row)) == len(schema) for row in rows)
    assert lines[12:] == ["", "10 av 12 rader."]
    text = [c for row in rows for c in cells(row)]
    if pl.String in schema.values():
        assert "a | b" in text and "rad brytning" in text and "x" * 39 + "…" in text
    if any(t.is_float() for t in schema.values()):
        assert "1234567" in text and "0.1235" in text


def test_wide_fact_table_preview_keeps_long_column_names_whole():
    """The case polars' own markdown broke: 34 columns split column names into fragments."""
    names = list(FactIndicator.to_schema().columns)
    header = cells(markdown_table(pl.DataFrame({n: [None] for n in names})).split("\n")[0])
    assert header == names and "compared_to_rest_of_riket" in header


def test_catalogue_columns_are_labelled_in_the_published_indicator_table():
    coded = {c for c, allowed in published_columns()["marts.indicator"].items() if allowed}
    assert {"domain", "verification", "factor", "strategic_factor", "polarity"} <= coded
    assert set(IndicatorCatalog.to_schema().columns) <= set(published_columns()["marts.indicator"])
