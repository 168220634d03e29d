"""What a publication is made of, and how it is put in place as a whole.

Plain functions (no Dagster): the code and catalogue versions, the build record written
to the raw store for every publication, and the publication folders: the database and the
site (downloads included) of one publication live in one folder, filled under a staging
name and made current with one atomic symlink swap, so a reader never sees two builds at
once and a build killed at any point leaves the previous publication whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sources.build_record import write_record

REPO = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("pipeline", "sources", "transforms", "checks", "reports")
CODE_SUFFIXES = (".py", ".j2", ".css", ".sql", ".js")
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


# A publication is one folder holding the database and the site (downloads included):
#   data/publications/<run_id>/database/uppvaxt.duckdb
#   data/publications/<run_id>/site/index.html, …, nedladdning/
#   data/publications/current -> <run_id>          (swapped atomically)
#   data/published -> publications/current/database
#   data/reports   -> publications/current/site
# so the database and the site a reader opens always belong to the same publication.
PUBLICATIONS = "publications"
CURRENT = "current"
DATABASE_DIR, SITE_DIR, DATABASE_FILE = "database", "site", "uppvaxt.duckdb"
MANIFEST = "publicering.json"
STAGING_PREFIX = ".staging-"
LINKS = {"published": f"{PUBLICATIONS}/{CURRENT}/{DATABASE_DIR}",
         "reports": f"{PUBLICATIONS}/{CURRENT}/{SITE_DIR}"}


class Release:
    """One publication's folder (complete, or being filled under a staging name)."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def database(self) -> Path:
        return self.root / DATABASE_DIR / DATABASE_FILE

    @property
    def site(self) -> Path:
        return self.root / SITE_DIR

    def manifest(self) -> dict:
        try:
            return json.loads((self.site / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}


def publications(data: Path) -> Path:
    return data / PUBLICATIONS


def current_release(data: Path) -> Release | None:
    """The publication readers see now, or None (nothing published in this layout yet)."""
    link = publications(data) / CURRENT
    return Release(link.resolve()) if link.is_symlink() and link.resolve().is_dir() else None


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system: a copy costs space, not correctness
        shutil.copy2(source, target)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def start_release(data: Path, run_id: str) -> Release:
    """A staging folder for a new publication: the site of the current one hardlinked in
    (a writer replaces a file by renaming a new one over it, which never touches the current
    publication's copy), an empty database folder. What a killed publication left behind is
    removed first (one writer at a time holds the build lock)."""
    root = publications(data)
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Release(root / f"{STAGING_PREFIX}{run_id}")
    staging.database.parent.mkdir(parents=True)
    current = current_release(data)
    source = current.site if current else data / "reports"  # the layout before publications
    if source.is_dir():
        shutil.copytree(source, staging.site, copy_function=_link_or_copy, symlinks=True,
                        ignore=shutil.ignore_patterns(".*.tmp", ".uppvaxt-build.json"))
    else:
        staging.site.mkdir()
    return staging


def _swap_link(link: Path, target: str) -> None:
    """Point `link` at `target` in one rename (readers see the old or the new target). A
    folder in its place (the layout before publications, or a copy that followed the links)
    is moved aside first and removed."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    aside = None
    if link.exists() and not link.is_symlink():
        aside = link.with_name(f".old-{link.name}-{os.getpid()}")
        os.rename(link, aside)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def finish_release(data: Path, staging: Release, manifest: dict) -> Release:
    """Name the staging folder after its run, write the manifest, and make it current in
    one atomic step; older publications but the one before are removed."""
    write_json(staging.site / MANIFEST, manifest)
    for folder in (staging.site, staging.database.parent, staging.root):
        _fsync_dir(folder)
    root = publications(data)
    final = Release(root / manifest["run_id"])
    if final.root.exists():  # an earlier attempt of the same run that never became current
        shutil.rmtree(final.root)
    os.rename(staging.root, final.root)
    before = current_release(data)
    _swap_link(root / CURRENT, final.root.name)
    _fsync_dir(root)
    for name, target in LINKS.items():
        _swap_link(data / name, target)
    keep = {final.root.name} | ({before.root.name} if before else set())
    for old in root.iterdir():
        if old.is_dir() and not old.is_symlink() and old.name not in keep | {CURRENT} \
                and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return final


def discard_release(staging: Release) -> None:
    shutil.rmtree(staging.root, ignore_errors=True)


def write_json(target: Path, doc: dict) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
