"""A publication is put in place as a whole (issue 15 #5, #3) and only from tables built from
the same inputs (#6): the plain functions behind the publication step."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pipeline.assets.reports import refusal
from pipeline.publication import (MANIFEST, current_release, discard_release, finish_release,
                                  start_release)
from pipeline.warehouse import BuildStamp, consistency, write_table
from reports.render import write_file


def publish_site(data: Path, run_id: str, pages: dict[str, str]) -> Path:
    """What the publication step does with the site: stage, write every page, swap."""
    staging = start_release(data, run_id)
    for name, text in pages.items():
        write_file(staging.site / name, text)
    for stale in set(p.name for p in staging.site.glob("*.html")) - set(pages):
        (staging.site / stale).unlink()
    staging.database.write_bytes(f"db {run_id}".encode())
    return finish_release(data, staging, {"run_id": run_id, "published_at": "2026-11-23T03:30:00Z"}).root


def test_the_site_and_database_are_swapped_in_together(tmp_path):
    data = tmp_path / "data"
    first = publish_site(data, "run-1", {"index.html": "start 1", "a.html": "A", "b.html": "B"})
    assert (data / "reports").is_symlink() and (data / "published").is_symlink()
    assert (data / "reports" / "index.html").read_text() == "start 1"
    assert (data / "published" / "uppvaxt.duckdb").read_bytes() == b"db run-1"
    assert current_release(data).manifest()["run_id"] == "run-1"
    before = {p.name: p.stat().st_ino for p in (data / "reports").glob("*.html")}

    second = publish_site(data, "run-2", {"index.html": "start 2", "a.html": "A", "c.html": "C"})
    after = {p.name: p.stat().st_ino for p in (data / "reports").glob("*.html")}
    # unchanged a.html is the same file (hardlinked, never rewritten); index.html was rewritten
    assert after["a.html"] == before["a.html"] and after["index.html"] != before["index.html"]
    assert "b.html" not in after and (data / "reports" / "c.html").read_text() == "C"
    assert (data / "published" / "uppvaxt.duckdb").read_bytes() == b"db run-2"
    assert current_release(data).manifest()["run_id"] == "run-2"
    # the previous publication stays whole for a reader who holds it, untouched by the new one
    assert (first / "site" / "index.html").read_text() == "start 1" and (first / "site" / "b.html").exists()
    publish_site(data, "run-3", {"index.html": "start 3"})
    assert sorted(p.name for p in (data / "publications").iterdir()) == ["current", "run-2", "run-3"]
    assert not first.exists() and second.exists()


def test_a_killed_publication_is_never_seen_and_is_cleaned_up(tmp_path):
    data = tmp_path / "data"
    publish_site(data, "run-1", {"index.html": "start 1", "a.html": "A"})
    staging = start_release(data, "run-2")          # killed after writing half the pages
    write_file(staging.site / "index.html", "start 2")
    assert (data / "reports" / "index.html").read_text() == "start 1"
    assert (data / "reports" / MANIFEST).exists() and current_release(data).manifest()["run_id"] == "run-1"
    # what the killed one wrote never reached the current publication's files
    assert (data / "publications" / "run-1" / "site" / "index.html").read_text() == "start 1"
    publish_site(data, "run-3", {"index.html": "start 3", "a.html": "A"})
    assert not list((data / "publications").glob(".staging-*"))
    discard_release(start_release(data, "run-4"))
    assert not list((data / "publications").glob(".staging-*"))


def test_a_folder_of_the_layout_before_publications_is_taken_over(tmp_path):
    data = tmp_path / "data"
    (data / "reports").mkdir(parents=True)
    (data / "reports" / "index.html").write_text("old start")
    (data / "reports" / "a.html").write_text("A")
    (data / "reports" / ".index.html.123.tmp").write_text("half")
    (data / "published").mkdir()
    (data / "published" / "uppvaxt.duckdb").write_bytes(b"old db")
    old_inode = (data / "reports" / "a.html").stat().st_ino
    publish_site(data, "run-1", {"index.html": "start 1", "a.html": "A"})
    assert (data / "reports").is_symlink() and (data / "reports" / "a.html").stat().st_ino == old_inode
    assert not (data / "reports" / ".index.html.123.tmp").exists()
    assert (data / "published" / "uppvaxt.duckdb").read_bytes() == b"db run-1"


def test_write_file_leaves_identical_content_alone(tmp_path):
    page = tmp_path / "a.html"
    assert write_file(page, "A") is True
    stamp = page.stat().st_mtime_ns, page.stat().st_ino
    assert write_file(page, "A") is False and (page.stat().st_mtime_ns, page.stat().st_ino) == stamp
    assert write_file(page, b"B") is True and page.read_bytes() == b"B"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- built from the same inputs ------------------------------------------------------------

def build(db: Path, table: str, values: list[int], parents=(), catalog="k1", run="r1") -> None:
    schema, name = table.split(".")
    write_table(db, schema, name, pl.DataFrame({"x": values}),
                stamp=BuildStamp(parents=tuple(parents), code_version="c1", catalog_version=catalog,
                                 run_id=run))


def test_tables_built_from_other_versions_of_their_inputs_are_named(tmp_path):
    db = tmp_path / "w.duckdb"
    build(db, "raw.kommun", [1])
    build(db, "marts.peer_group", [1], ["raw.kommun"])
    build(db, "marts.fact_indicator", [1], ["marts.peer_group", "raw.kommun"])
    build(db, "marts.funnel_limit", [1], ["marts.fact_indicator"])
    published = ["marts.fact_indicator", "marts.funnel_limit", "marts.peer_group"]
    check = consistency(db, published)
    assert check.ok and check.tables == ["marts.fact_indicator", "marts.funnel_limit",
                                          "marts.peer_group", "raw.kommun"]
    assert (check.code_version, check.catalog_version) == ("c1", "k1")

    build(db, "marts.peer_group", [1], ["raw.kommun"], run="r2")  # the same content again: fine
    assert consistency(db, published).ok
    build(db, "marts.peer_group", [2], ["raw.kommun"], run="r3")  # a new group (peers.yaml)
    check = consistency(db, published)
    assert not check.ok and check.stale == {"marts.fact_indicator": ["marts.peer_group"]}
    assert check.rebuild == ["marts.fact_indicator", "marts.funnel_limit"]
    text = refusal(check)
    assert "marts/fact_indicator byggdes av en äldre version av marts/peer_group" in text
    assert "Materialisera marts/fact_indicator, marts/funnel_limit och allt som bygger på dem" in text
    assert "(eller allt: jobbet build_all)" in text
    assert "Den publicerade versionen är orörd" in text

    build(db, "marts.fact_indicator", [1], ["marts.peer_group", "raw.kommun"])
    build(db, "marts.funnel_limit", [1], ["marts.fact_indicator"])
    assert consistency(db, published).ok


def test_two_catalogues_or_an_unknown_build_are_refused(tmp_path):
    db = tmp_path / "w.duckdb"
    build(db, "raw.kommun", [1])
    build(db, "marts.peer_group", [1], ["raw.kommun"], catalog="k2")
    check = consistency(db, ["marts.peer_group"])
    assert check.mixed == {"catalog": ["raw.kommun"]} and check.catalog_version is None
    assert "Byggda med en annan version av katalogen (data/catalog) än den senast byggda tabellen: " \
           "raw/kommun." in refusal(check)
    assert "Materialisera allt (jobbet build_all" in refusal(check)
    write_table(db, "marts", "area", pl.DataFrame({"x": [1]}))  # written without a stamp
    check = consistency(db, ["marts.area"])
    assert check.unrecorded == ["marts.area"] and not check.ok


def test_the_build_book_is_written_with_the_table_or_not_at_all(tmp_path, monkeypatch):
    import duckdb

    import pipeline.warehouse as warehouse

    db = tmp_path / "w.duckdb"
    build(db, "raw.kommun", [1])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(warehouse, "table_hash", broken)
    try:
        build(db, "raw.kommun", [2], run="r2")
    except RuntimeError:
        pass
    con = duckdb.connect(str(db))
    try:
        assert con.sql("select x from raw.kommun").fetchall() == [(1,)]
        assert con.sql("select run_id from meta.table_build").fetchall() == [("r1",)]
        comment = con.sql("select comment from duckdb_tables() where table_name = 'table_build'").fetchall()
    finally:
        con.close()
    assert "publiceras inte" in comment[0][0]
    assert os.path.exists(db)


def test_a_series_fetched_alone_or_with_others_is_the_same_content(tmp_path):
    """The same values asked alone or in a batch of 25 come back in other responses: a
    vintage row's response hashes and fetch state are provenance, not content."""
    import duckdb

    from pipeline.warehouse import table_hash

    db = tmp_path / "w.duckdb"
    row = {"kpi_id": "N11821", "state": "fresh", "pages": "aaa,bbb", "meta_page": "m1",
           "checked_at": "2026-11-23T03:30:00Z", "problem": None}
    write_table(db, "meta", "kolada_vintage", pl.DataFrame([row]))
    con = duckdb.connect(str(db))
    first = table_hash(con, "meta", "kolada_vintage")
    con.close()
    write_table(db, "meta", "kolada_vintage", pl.DataFrame([{**row, "state": "kept", "pages": "ccc",
                                                              "meta_page": "m2"}]))
    con = duckdb.connect(str(db))
    assert table_hash(con, "meta", "kolada_vintage") == first
    con.close()
    write_table(db, "meta", "kolada_vintage", pl.DataFrame([{**row, "state": "stale"}]))
    con = duckdb.connect(str(db))
    assert table_hash(con, "meta", "kolada_vintage") != first  # a real state is content
    con.close()
