"""Keeps every raw API response unchanged, with what was asked, when, and its hash.

Response bodies are stored content-addressed (`<root>/<source>/<sha256>.<ext>`) so an
unchanged answer is stored once; each fetch appends one line to `<root>/manifest.jsonl`,
which is the durable log of what was asked and received.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class RawRecord:
    source: str
    method: str
    url: str
    request_body: str | None
    status_code: int
    content_type: str | None
    fetched_at: str
    sha256: str
    size_bytes: int
    path: str


RAW_RECORD_SCHEMA = {
    "source": pl.String,
    "method": pl.String,
    "url": pl.String,
    "request_body": pl.String,
    "status_code": pl.Int32,
    "content_type": pl.String,
    "fetched_at": pl.String,
    "sha256": pl.String,
    "size_bytes": pl.Int64,
    "path": pl.String,
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RawStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.jsonl"

    def save(
        self,
        *,
        source: str,
        method: str,
        url: str,
        request_body: bytes | None,
        status_code: int,
        content_type: str | None,
        body: bytes,
    ) -> RawRecord:
        digest = hashlib.sha256(body).hexdigest()
        ext = "json" if content_type and "json" in content_type else "bin"
        relative = Path(source) / f"{digest}.{ext}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(body)
            os.replace(tmp, target)
        record = RawRecord(
            source=source,
            method=method,
            url=url,
            request_body=request_body.decode("utf-8") if request_body else None,
            status_code=status_code,
            content_type=content_type,
            fetched_at=_now(),
            sha256=digest,
            size_bytes=len(body),
            path=str(relative),
        )
        with self._lock, self.manifest_path.open("a", encoding="utf-8") as manifest:
            manifest.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        return record


    def manifest(self) -> pl.DataFrame:
        """Every fetch ever logged, oldest first."""
        if not self.manifest_path.exists():
            return pl.DataFrame(schema=RAW_RECORD_SCHEMA)
        rows = [
            json.loads(line)
            for line in self.manifest_path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        return pl.DataFrame(rows, schema=RAW_RECORD_SCHEMA)
