"""Take one survey file in: name, move, size, codebook, read, check, score, store privately.

The file is first moved out of the inbox into the private store (never following a link),
then checked there. A file with any problem goes to the private store's quarantine with a
report in the inbox, and nothing of it is stored; whatever goes wrong while checking (a bug,
a crash inside polars) ends the same way, with the details kept privately. A good file's
scored respondent rows replace its earlier version in the private store.

Beyond the codebook, a file is refused when it was delivered before (the same content under
another name, or respondent ids already stored for the same survey and year), when its
respondent count differs from its delivery note (or, without a note, from the codebook's
expected count for the year), and a warning is given when its wave is much smaller than the
survey's previous one. A `<file>.withdraw` marker removes an accepted file. Nothing here
touches the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from sources.surveys.inbox import (DELIVERY, SIDECARS, WITHDRAW, delivery_count, pair, refusal,
                                   valid_name, write_report)
from sources.surveys.private_store import INCOMING, LOG, QUARANTINE, RAW, PrivateStore
from sources.tabular.problems import Summary, combine, empty_problems, problem
from sources.tabular.identity import identity_columns
from sources.tabular.readers import UnreadableFile, read_table
from sources.surveys.validate import DEFAULT_MAX_BYTES, apply_codebook, size_problem
from transforms.survey import score
from transforms.survey_codebook import Codebook


@dataclass(frozen=True)
class Outcome:
    file: str
    codebook: str | None
    problems: pl.DataFrame = field(default_factory=empty_problems)
    respondents: int = 0
    fetched_at: str = ""
    sha256: str | None = None
    stored: Path | None = None
    quarantined: Path | None = None
    report: Path | None = None
    withdrawn: str | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problems.height == 0

    def summary(self) -> Summary:
        return Summary.of(self.file, self.problems)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def take_in(path: Path, *, inbox: Path, codebooks: dict[str, Codebook],
            kommun_codes: dict[str, str] | set[str], store: PrivateStore,
            max_bytes: int = DEFAULT_MAX_BYTES) -> Outcome:
    """Process one inbox file (or withdraw marker); quarantine it when it has problems.

    `kommun_codes` maps SCB kommun code → name (names in the file are then accepted)."""
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.secure()
    refused = refusal(path, inbox)
    if refused is not None:
        why, problems = refused
        name = path.name if valid_name(path.name) else None
        moved = store.move_in(path, QUARANTINE) if why == "link" else None
        # A refused name ("../x") or a vanished file gets no report: there is no such file
        # in the inbox to report on; the asset check says why.
        report = write_report(name, problems, inbox) if name and why not in ("gone", "name") else None
        return Outcome(problems["file"][0], None, problems, fetched_at=fetched_at,
                       quarantined=moved, report=report)
    if path.name.endswith(WITHDRAW):
        return withdraw(path, inbox=inbox, store=store, fetched_at=fetched_at)
    incoming = store.move_in(path, INCOMING)
    for suffix in SIDECARS:
        sidecar = path.with_name(path.name + suffix)
        if refusal(sidecar, inbox) is None:
            store.move_in(sidecar, INCOMING)
    try:
        return _take(incoming, inbox=inbox, codebooks=codebooks, kommuner=kommun_codes,
                     store=store, max_bytes=max_bytes, fetched_at=fetched_at)
    except (Exception, pl.exceptions.PanicException) as err:  # a panic is no Exception
        # The message may hold cell values: it stays in the private store.
        store.append_line(json.dumps({"file": path.name, "at": fetched_at, "error": type(err).__name__,
                                      "traceback": traceback.format_exc()}, ensure_ascii=False),
                          store.root / LOG / "errors.jsonl")
        problems = problem(path.name, "internal",
                           "ett internt fel inträffade när filen kontrollerades; den har satts i "
                           "karantän och felet har sparats i det privata lagret (log/errors.jsonl). "
                           "Meddela förvaltaren av uppvaxt.")
        return _refuse(incoming, problems, inbox, store, None, fetched_at)


def _refuse(incoming: Path, problems: pl.DataFrame, inbox: Path, store: PrivateStore,
            book: Codebook | None, fetched_at: str, erase: bool = False) -> Outcome:
    """Quarantine a file with its report; with `erase`, delete it (and its sidecars) from
    the private store once the report is written."""
    moved = store.move_in(incoming, QUARANTINE)
    sidecars = []
    for suffix in SIDECARS:
        sidecar = incoming.with_name(incoming.name + suffix)
        if sidecar.exists():
            sidecars.append(store.move_in(sidecar, QUARANTINE))
    report = write_report(incoming.name, problems, inbox)
    if erase:
        for path in [moved, *sidecars]:
            path.unlink(missing_ok=True)
        moved = None
    return Outcome(incoming.name, book.id if book else None, problems, fetched_at=fetched_at,
                   quarantined=moved, report=report)


def _take(path: Path, *, inbox: Path, codebooks: dict[str, Codebook], kommuner,
          store: PrivateStore, max_bytes: int, fetched_at: str) -> Outcome:
    name = path.name
    too_large = size_problem(path, max_bytes)
    if too_large is not None:
        return _refuse(path, too_large, inbox, store, None, fetched_at)
    book, unpaired = pair(path, codebooks)
    if book is None:
        return _refuse(path, unpaired, inbox, store, None, fetched_at)
    try:
        table = read_table(path, list(book.columns.roles().values()) + book.scale_items)
    except UnreadableFile as err:
        return _refuse(path, err.problems, inbox, store, book, fetched_at)
    identified = identity_columns(table.header, table.sample)
    if identified:
        # A file with personal identity numbers is not kept at all, not even in quarantine.
        return _refuse(path, combine([problem(
            name, "personal_number",
            f"kolumnen {column!r} ser ut att innehålla personnummer ({why}); uppvaxt tar bara emot "
            "avidentifierade filer. Be leverantören om en ny export utan personnummer, med ett "
            "löpnummer eller annat svars-id i stället. Filen har raderats ur det privata lagret.",
            column=column) for column, why in identified]), inbox, store, book, fetched_at, erase=True)
    checked = apply_codebook(table, book, kommuner)
    if checked.problems.height:
        return _refuse(path, checked.problems, inbox, store, book, fetched_at)
    sha = _sha256(path)
    frame = checked.frame
    noted, note_problem = delivery_count(path)
    problems = combine([p for p in (note_problem, _count_problem(name, book, frame, noted, store),
                                    redelivered(name, sha, book, frame, store)) if p is not None])
    if problems.height:
        return _refuse(path, problems, inbox, store, book, fetched_at)
    scores = score(frame, book).with_columns(
        survey_id=pl.lit(book.id), source_file=pl.lit(name), fetched_at=pl.lit(fetched_at),
    ).collect()
    stored = store.write_microdata(name, scores)
    per_kommun = (scores.group_by("year", "kommun").len().sort("year", "kommun")
                  .group_by("year", maintain_order=True).agg(pl.struct("kommun", "len")))
    store.write_manifest(name, {
        "file": name, "codebook": book.id, "codebook_version": book.version, "sha256": sha,
        "fetched_at": fetched_at, "respondents": scores.height,
        "years": {str(y): {r["kommun"]: r["len"] for r in rows} for y, rows in per_kommun.iter_rows()},
    })
    store.move_in(path, RAW)
    for suffix in SIDECARS:
        sidecar = path.with_name(name + suffix)
        if sidecar.exists():
            store.move_in(sidecar, RAW)
    details = {"format": table.format, "encoding": table.encoding, "delimiter": table.delimiter,
               "sheet": table.sheet, "kommuner": scores["kommun"].n_unique(),
               "years": sorted(scores["year"].unique().to_list()),
               "value_labels": len(table.value_labels), "codebook_version": book.version}
    return Outcome(name, book.id, respondents=scores.height, fetched_at=fetched_at, sha256=sha,
                   stored=stored, details=details, warnings=shrink_warnings(name, book, store))


def _count_problem(name: str, book: Codebook, frame: pl.DataFrame, noted: int | None,
                   store: PrivateStore) -> pl.DataFrame | None:
    """A respondent count that differs from the delivery note, or (without one) from the
    codebook's expected count for the year: the file may have been cut short."""
    rows = frame.height
    if noted is not None:
        if rows == noted:
            return None
        return problem(name, "row_count",
                       f"filen har {rows} svarsrader men leveranssedeln ({name}{DELIVERY}) anger "
                       f"{noted}; filen kan vara avklippt eller ofullständig – be leverantören om "
                       "hela filen")
    out = []
    years = frame.group_by("year").len().sort("year").rows()
    others = _stored_counts(book, store, exclude=name)
    for year, n in years:
        expected = book.expected_respondents.get(int(year))
        if expected is None:
            continue
        before = others.get(int(year), 0)
        if before + n != expected:
            out.append(problem(
                name, "row_count",
                f"{year}: filen har {n} svarsrader och tidigare inlästa filer {before}, men "
                f"kodboken {book.id} väntar {expected} svarande för året; filen kan vara avklippt. "
                f"Levereras året i flera filer: lägg en leveranssedel {name}{DELIVERY} med "
                "antalet i just den här filen"))
    return combine(out) if out else None


def _stored_counts(book: Codebook, store: PrivateStore, exclude: str | None = None) -> dict[int, int]:
    counts: dict[int, int] = {}
    for file, manifest in store.manifests().items():
        if manifest.get("codebook") != book.id or file == exclude:
            continue
        for year, kommuner in manifest.get("years", {}).items():
            counts[int(year)] = counts.get(int(year), 0) + sum(kommuner.values())
    return counts


def redelivered(name: str, sha: str, book: Codebook, frame: pl.DataFrame,
                store: PrivateStore) -> pl.DataFrame | None:
    """The same content under another name, or respondent ids already stored for the same
    survey and year in another file: a re-delivery that would count pupils twice."""
    manifests = {f: m for f, m in store.manifests().items() if f != name}
    same = sorted(f for f, m in manifests.items() if m.get("sha256") == sha)
    if same:
        return problem(name, "redelivery",
                       f"filen har exakt samma innehåll som {same[0]}, som redan är inläst; samma "
                       "leverans två gånger räknas inte två gånger. Ska den ersätta den gamla: "
                       "använd samma filnamn")
    years = {str(y) for y in frame["year"].unique().to_list()}
    ours = frame.select("year", "respondent_id", "_row")
    out = []
    for other, manifest in sorted(manifests.items()):
        if manifest.get("codebook") != book.id or not years & set(manifest.get("years", {})):
            continue
        path = store.microdata_path(other)
        if not path.exists():
            continue
        theirs = store.read_microdata(path, ["year", "respondent_id"])
        overlap = ours.join(theirs, on=["year", "respondent_id"], how="semi").sort("_row")
        if overlap.height:
            first = overlap["_row"][0]
            out.append(problem(
                name, "redelivery",
                f"{overlap.height} svars-id finns redan i {other} för samma enkät och år (första på "
                f"rad {first}); samma elever levererade två gånger? Ska filen ersätta {other}: ge "
                f"den samma filnamn, eller dra tillbaka den gamla med en tom fil "
                f"{other}{WITHDRAW} i inkorgen", row=first))
    return combine(out) if out else None


def shrink_warnings(name: str, book: Codebook, store: PrivateStore) -> list[str]:
    """A wave (all stored files of a survey year) much smaller than the previous wave."""
    counts = _stored_counts(book, store)
    per_kommun: dict[int, set[str]] = {}
    for manifest in store.manifests().values():
        if manifest.get("codebook") == book.id:
            for year, kommuner in manifest.get("years", {}).items():
                per_kommun.setdefault(int(year), set()).update(kommuner)
    mine = json.loads((store.root / "files" / f"{name}.json").read_text(encoding="utf-8"))
    out = []
    for year in sorted(int(y) for y in mine.get("years", {})):
        earlier = [y for y in counts if y < year]
        if not earlier:
            continue
        before = max(earlier)
        now, then = counts[year], counts[before]
        if now < (1 - book.shrink_warning) * then:
            gone = sorted(per_kommun[before] - per_kommun[year])
            out.append(f"{book.id} {year} har {now} svarande mot {then} i {before} "
                       f"({100 * (now - then) / then:.0f} %)"
                       + (f"; {len(gone)} kommuner från {before} saknas ({', '.join(gone[:10])})" if gone else "")
                       + ". Är filen avklippt eller saknas en leverans?")
    return out


def withdraw(marker: Path, *, inbox: Path, store: PrivateStore, fetched_at: str) -> Outcome:
    """Remove an accepted file: `<file>.withdraw` in the inbox."""
    target = marker.name.removesuffix(WITHDRAW)
    if not valid_name(target) or target not in store.manifests():
        problems = problem(marker.name, "not_allowed",
                           f"{target!r} finns inte bland de inlästa filerna, så det finns inget att "
                           "dra tillbaka (filnamnet ska vara exakt den inlästa filens namn + .withdraw)")
        moved = store.move_in(marker, QUARANTINE)
        return Outcome(marker.name, None, problems, fetched_at=fetched_at, quarantined=moved,
                       report=write_report(marker.name, problems, inbox))
    removed = store.remove_file(target)
    store.append_line(json.dumps({"file": target, "withdrawn_at": fetched_at,
                                  "removed": [p.name for p in removed]}, ensure_ascii=False),
                      store.root / LOG / "withdrawn.jsonl")
    marker.unlink()
    return Outcome(marker.name, None, fetched_at=fetched_at, withdrawn=target)
