"""What each published build was made of, kept in the raw store: `raw/builds/<run_id>.json`.

A record lists, per Kolada KPI and SCB table, the stored responses (by SHA-256) its values
were read from, with its state (fresh, kept, stale, blocked, unavailable) and problem, plus
the build's data-quality rows and fingerprints. It is written before the published snapshot
is swapped in, so every snapshot has one. It serves three readers:

* the next build, as the previously published vintage (drift checks, values kept when a
  source fails, `first_seen` of a problem, what an incremental night may skip);
* the nightly probe, which asks the sources only about what changed since;
* replay (`UPPVAXT_SOURCE=replay`), which rebuilds a published build from the raw store
  alone: the same responses, parsed by the same code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BUILDS = "builds"


class RecordError(RuntimeError):
    """No usable build record (nothing published yet, or a record is missing)."""


def record_path(raw_root: Path, run_id: str) -> Path:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise RecordError(f"not a run id: {run_id!r}")
    return Path(raw_root) / BUILDS / f"{run_id}.json"


def write_record(raw_root: Path, record: dict[str, Any]) -> Path:
    """Write atomically (temporary name, then rename)."""
    target = record_path(raw_root, record["run_id"])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_record(raw_root: Path, run_id: str) -> dict[str, Any]:
    path = record_path(raw_root, run_id)
    if not path.exists():
        raise RecordError(f"no build record for run {run_id} in {path.parent}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RecordError(f"{path}: not valid JSON: {err}") from err


def latest_record(raw_root: Path) -> dict[str, Any] | None:
    """The most recently published record (by its publication time), or None."""
    records = []
    for path in (Path(raw_root) / BUILDS).glob("*.json"):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return max(records, key=lambda r: (r.get("published_at", ""), r["run_id"]), default=None)
