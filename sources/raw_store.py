"""Keeps every raw API response unchanged, with what was asked, when, and its hash.

Response bodies are stored content-addressed (`<root>/<source>/<sha256>.<ext>`) so an
unchanged answer is stored once; each fetch appends one line to `<root>/manifest.jsonl`,
which is the durable log of what was asked and received. A build reads its data back from
here by hash (`load`), which is what makes a published build replayable without network.

Crash safety: bodies are written to a temporary name and renamed; a process killed while
appending to the manifest leaves at most a partial last line, which `repair` cuts off
before the next append (the response it described was never used by a finished build).
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


def pid_alive(pid: str) -> bool:
    """Whether a process id (as found in a temporary file name) is still running."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RawStoreError(RuntimeError):
    """A stored response is missing or does not match its hash."""


class RawStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._repaired = False

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.jsonl"

    def repair(self) -> None:
        """Cut a partial last manifest line and remove temporary files of killed processes."""
        if self.manifest_path.exists():
            with self.manifest_path.open("rb+") as manifest:
                data = manifest.read()
                if data and not data.endswith(b"\n"):
                    manifest.truncate(data.rfind(b"\n") + 1)
        for tmp in self.root.glob("*/*.tmp*"):
            if not pid_alive(tmp.suffix.removeprefix(".tmp")):
                tmp.unlink(missing_ok=True)
        self._repaired = True

    def has(self, source: str, sha256: str) -> bool:
        return any(".tmp" not in m.name for m in (self.root / source).glob(f"{sha256}.*"))

    def load(self, source: str, sha256: str) -> bytes:
        """The stored body with this hash, checked against it."""
        matches = sorted((self.root / source).glob(f"{sha256}.*"))
        matches = [m for m in matches if ".tmp" not in m.name]
        if not matches:
            raise RawStoreError(f"raw store {self.root}: no stored {source} response {sha256}")
        body = matches[0].read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            raise RawStoreError(f"raw store {matches[0]}: content does not match its hash")
        return body

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
        if not self._repaired:
            self.repair()
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
        lines = self.manifest_path.read_text(encoding="utf-8").split("\n")
        # The last piece is "" after a complete line, or a line cut by a killed writer.
        rows = [json.loads(line) for line in lines[:-1] if line.strip()]
        return pl.DataFrame(rows, schema=RAW_RECORD_SCHEMA)
