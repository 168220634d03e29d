"""What a publication is made of, and whether anything changed since the last one.

Plain functions (no Dagster): the code and catalogue versions, the build record written
to the raw store for every published snapshot, and the marker the reports folder carries
(which build its files show), so an unchanged build rewrites neither snapshot nor reports
and a build killed between the two finishes the reports next time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sources.build_record import write_record

REPO = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("pipeline", "sources", "transforms", "checks", "reports")
CODE_SUFFIXES = (".py", ".j2", ".css", ".sql", ".js")
REPORTS_MARKER = ".uppvaxt-build.json"
RECORD_TABLES = {"kolada": "meta.kolada_vintage", "scb": "meta.scb_vintage",
                 "data_quality": "meta.data_quality"}


def _tree_hash(root: Path, paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def code_version() -> str:
    """A hash of the project's code and templates: a code change is a change to publish."""
    files = [p for pkg in CODE_PACKAGES for p in (REPO / pkg).rglob("*")
             if p.is_file() and p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts]
    return _tree_hash(REPO, files)


def catalog_version(catalog: Path) -> str:
    """A hash of every catalogue file (indicators, sources, peers, codebooks, acceptances)."""
    return _tree_hash(catalog, [p for p in catalog.rglob("*") if p.is_file()])


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_record(warehouse: Path, publication: dict) -> dict:
    """The record of this build: the publication row plus its vintage and quality tables."""
    record = dict(publication)
    con = duckdb.connect(str(warehouse))
    try:
        for key, table in RECORD_TABLES.items():
            schema, name = table.split(".")
            exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? "
                                 "AND table_name = ?", [schema, name]).fetchall()[0][0]
            record[key] = con.sql(f"SELECT * FROM {table}").pl().to_dicts() if exists else []
    finally:
        con.close()
    return record


def save_record(raw_root: Path, warehouse: Path, publication: dict) -> Path:
    return write_record(raw_root, build_record(warehouse, publication))


def reports_marker(reports: Path) -> dict:
    try:
        return json.loads((reports / REPORTS_MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def write_reports_marker(reports: Path, run_id: str, fingerprint: str) -> None:
    """Written last, once every report file is in place."""
    target = reports / REPORTS_MARKER
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "fingerprint": fingerprint}), encoding="utf-8")
    os.replace(tmp, target)
