"""The publication reads only what each part needs (issue 18, point 2): the site's fact rows
filtered in DuckDB, the changes since the last publication found by DuckDB, the downloads a
county at a time. Each narrow read must give exactly what the whole table gives."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import polars as pl
import pytest

from pipeline.layout import DataLayout
from pipeline.publication_work import FACTS, area_facts, changed_facts, fetched_at, site_facts
from pipeline.warehouse import write_table
from reports.downloads import wide_table
from reports.model import Row, SiteData
from reports.render import fetch_dates
from transforms.changes import value_changes

VIEWS = ("latest_period", "national_code", "latest", "breakdowns", "series", "periods", "spreads",
         "trend_domain", "previous", "watch", "counts", "watch_last_year", "tables")


@pytest.fixture(scope="module")
def warehouse(site_marts, tmp_path_factory) -> DataLayout:
    paths = DataLayout(tmp_path_factory.mktemp("reads") / "data")
    write_table(paths.warehouse, "marts", "fact_indicator", site_marts.facts)
    return paths


def test_the_site_rows_give_every_view_the_whole_table_gives(site_marts, warehouse):
    narrow = site_facts(warehouse)
    assert narrow.height < site_marts.facts.height  # K/M rows of earlier years are left out
    whole, lean = SiteData(site_marts), SiteData(replace(site_marts, facts=narrow))
    for view in VIEWS:
        assert getattr(lean, view) == getattr(whole, view), view


def test_prepared_data_may_let_go_of_the_facts(site_marts):
    data = SiteData(site_marts).prepare(keep_facts=False)
    assert data.m.facts.height == 0 and data.m.facts.columns == site_marts.facts.columns
    assert data.latest == SiteData(site_marts).latest and data.series


def test_newest_fetch_per_indicator_dates_as_the_whole_table(site_marts, warehouse):
    dates = fetched_at(warehouse)
    assert dates.height == site_marts.facts["indicator_id"].n_unique()
    assert fetch_dates(dates) == fetch_dates(site_marts.facts)


def test_each_county_read_alone_gives_the_rows_of_the_whole_table(site_marts, warehouse):
    facts = area_facts(warehouse)
    assert facts.years == sorted(site_marts.facts["period"].unique().to_list())
    data = SiteData(site_marts)
    whole = wide_table(data)
    code = whole.columns[1]  # Områdeskod
    for lan, _ in data.lans:
        codes = [*sorted(set(data.national_code.values())), lan, *data.subregions_of[lan],
                 *data.kommuner_of[lan]]
        county = wide_table(data, facts.of(codes), facts.years)
        assert county.columns == whole.columns and county.schema == whole.schema
        part = county.filter(pl.col(code).is_in([lan, *data.kommuner_of[lan]]))
        assert part.equals(whole.filter(pl.col(code).is_in([lan, *data.kommuner_of[lan]])))


def test_an_area_set_missing_a_year_still_has_its_column(site_marts):
    data = SiteData(site_marts)
    few = site_marts.facts.filter(pl.col("period") != 2025)
    table = wide_table(data, few, list(range(2019, 2026)))
    assert table.columns == wide_table(data).columns
    assert table["Värde 2025"].dtype == pl.Float64 and table["Värde 2025"].null_count() == table.height


def _published(paths: DataLayout, old: pl.DataFrame) -> None:
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.published))
    con.execute("CREATE SCHEMA marts")
    con.register("_old", old)
    con.execute(f"CREATE TABLE {FACTS} AS SELECT * FROM _old")
    con.close()


def test_duckdb_finds_exactly_the_changes_of_the_whole_tables(site_marts, tmp_path):
    old = site_marts.facts
    area, ind = pl.col("area_code"), pl.col("indicator_id")
    new = (old
           # revised beyond noise (1 %), and within noise (1e-12): only the first counts
           .with_columns(value=pl.when((ind == "N15508") & (pl.col("period") == 2024))
                         .then(pl.col("value") * 1.01)
                         .when((ind == "N15508") & (pl.col("period") == 2023))
                         .then(pl.col("value") * (1 + 1e-12)).otherwise("value"))
           # hidden now, a comparison and a trend changed
           .with_columns(status=pl.when((area == "0580") & (pl.col("period") == 2025))
                         .then(pl.lit("suppressed")).otherwise("status"),
                         compared_to_riket=pl.when((area == "0581") & (pl.col("sex") == "K"))
                         .then(pl.lit("worse")).otherwise("compared_to_riket"),
                         trend=pl.when(area == "1380").then(None).otherwise("trend"))
           # gone, and new
           .filter(~((area == "0980") & (pl.col("sex") == "M"))))
    new = pl.concat([new, new.filter((area == "0512") & (pl.col("period") == 2025))
                    .with_columns(period=pl.lit(2026, pl.Int32))])
    paths = DataLayout(tmp_path / "data")
    write_table(paths.warehouse, "marts", "fact_indicator", new)
    _published(paths, old)
    old_rows, new_rows = changed_facts(paths)
    assert 0 < old_rows.height < old.height and 0 < new_rows.height < new.height
    found = value_changes(old_rows, new_rows, "run-2", "run-1")
    expected = value_changes(old, new, "run-2", "run-1")
    assert found.equals(expected)
    assert {"is_new", "is_removed", "value_revised", "status_changed", "comparison_changed",
            "trend_changed"} <= {flag for flag in expected.columns if expected[flag].dtype == pl.Boolean
                                 and expected[flag].any()}
    # the noise-level revision is no change
    revised = found.filter(pl.col("value_revised") & (pl.col("indicator_id") == "N15508"))
    assert set(revised["period"]) == {2024}


def test_unchanged_tables_bring_no_rows(site_marts, tmp_path):
    paths = DataLayout(tmp_path / "data")
    write_table(paths.warehouse, "marts", "fact_indicator", site_marts.facts)
    _published(paths, site_marts.facts)
    old_rows, new_rows = changed_facts(paths)
    assert old_rows.height == new_rows.height == 0
    assert value_changes(old_rows, new_rows, "run-2", "run-1").height == 0


def test_a_snapshot_without_facts_has_nothing_to_compare(site_marts, tmp_path):
    paths = DataLayout(tmp_path / "data")
    write_table(paths.warehouse, "marts", "fact_indicator", site_marts.facts)
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(paths.published)).close()
    assert changed_facts(paths) == (None, None)
    assert value_changes(None, None, "run-2", "run-1").height == 0


def test_a_row_reads_as_the_dict_it_replaces():
    values = {"value": 1.5, "status": "ok", "stale": None}
    row = Row.__new__(Row)
    row.__dict__.update(values)
    assert row["value"] == 1.5 and row.get("stale") is None and row.get("missing", 0) == 0
    assert "status" in row and dict(row) == values and row == values and list(row) == list(values)
    with pytest.raises(KeyError):
        row["missing"]
    with pytest.raises(TypeError):
        hash(row)
    from reports.render import environment
    assert environment().from_string("{{ r.value }}|{{ r['status'] }}|{{ r.missing }}").render(r=row) == "1.5|ok|"


def test_the_fact_rows_share_their_texts(site_marts):
    data = SiteData(site_marts)
    rows = list(data.latest.values())
    statuses = {id(r["status"]) for r in rows if r["status"] == "ok"}
    assert len(statuses) == 1 and isinstance(rows[0], Row)
