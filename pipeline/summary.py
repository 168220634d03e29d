"""One honest summary at the end of every build: published or not, and what is missing.

Read from the run's own events (step failures, the per-KPI WARN check, whether the snapshot
was rewritten), the quarantine folder of the survey inbox and, when the run published, the
snapshot's notes on values. The same summary ends `python -m pipeline build|nightly` on
the terminal and each Dagster run's event log (posted by a run-status sensor), so the UI
and the terminal say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from transforms.data_quality import QUALITY_STATE, RANGE_NOTE

PUBLICATION_STEP = "publication"
SNAPSHOT_KEY = dg.AssetKey(["reports", "published_snapshot"])
KOLADA_CHECK = "kolada_per_kpi"


def orphan_lines(orphans: list[str]) -> list[str]:
    """The runs a killed build left in progress, marked failed: a line each."""
    return [f"  Tidigare körning: {line}" for line in orphans]


@dataclass
class RunSummary:
    run_id: str
    outcome: str                    # published | unchanged | failed
    seconds: float | None = None
    failures: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)   # values outside a plausible range
    quarantined: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # failed non-blocking checks
    nothing_new: bool = False
    had_snapshot: bool = True
    published: Path | None = None
    accept_file: Path | None = None  # where a person accepts a level shift or unit change
    orphans: list[str] = field(default_factory=list)  # earlier runs found dead and marked failed
    changes: dict | None = None      # counts of changed values against the last publication

    @property
    def exit_code(self) -> int:
        """Non-zero when something arrived and nothing new could be published."""
        return 1 if self.outcome == "failed" or (self.nothing_new and self.outcome != "published") else 0

    def lines(self) -> list[str]:
        took = f" på {self.seconds:.0f} s" if self.seconds is not None else ""
        run = self.run_id[:8]
        head = {
            "published": f"uppvaxt: publicerat{took} (körning {run}): databasen och rapporterna är uppdaterade.",
            "unchanged": f"uppvaxt: inget har ändrats sedan förra publiceringen{took} (körning {run}); "
                         f"databasen och rapporterna är orörda.",
            "failed": f"uppvaxt: INTE publicerat{took} (körning {run}).",
        }[self.outcome]
        lines = [head] + orphan_lines(self.orphans)
        if self.outcome == "published" and self.changes is not None:
            lines.append("  Ändrat sedan förra publiceringen: " + changes_text(self.changes))
        if self.nothing_new:
            lines.append("  Inga nya värden kunde tas in: alla nyckeltal som hämtades hade problem (se nedan)."
                         if self.outcome == "published" else
                         "  Inget nytt kunde tas in: alla nyckeltal som hämtades hade problem (se nedan).")
        lines += ["  Fel: " + failure.replace("\n", "\n    ") for failure in self.failures]
        if self.outcome == "failed" and self.published is not None:
            lines.append(f"  Den senast publicerade databasen är oförändrad: {self.published}"
                         if self.had_snapshot else
                         "  Ingen databas har publicerats ännu; inget finns att visa förrän ett bygge lyckas.")
        for p in self.problems:
            where = self.accept_file or "accepted_changes.yaml i katalogmappen"
            how = f" Godkänn i {where} när det är granskat." if p["state"] == "blocked" else ""
            lines.append(f"  {QUALITY_STATE.get(p['state'], p['state'])} {p['kpi_id']}: {p['message']}{how}")
        lines += [f"  {QUALITY_STATE['flagged']} {line}" for line in self.flagged]
        lines += [f"  Befolkning: {note}" for note in self.notes]
        lines += [f"  Enkätfil i karantän: {name}" for name in self.quarantined]
        lines += [f"  Kontroll: {warning}" for warning in self.warnings]
        return lines


CHANGE_WORDS = {"n_new": "nya", "n_revised": "reviderade", "n_removed": "borttagna",
                "n_status_changed": "med ny status", "n_comparison_changed": "med ny jämförelse",
                "n_trend_changed": "med ny trend"}


def changes_text(counts: dict) -> str:
    """'12 nya, 3 reviderade värden' from the publication history's counts."""
    if not counts.get("previous_run_id"):
        return "inget, detta är den första publiceringen (inget tidigare att jämföra med)"
    parts = [f"{counts[k]:,} {word}".replace(",", "\u00a0") for k, word in CHANGE_WORDS.items()
             if counts.get(k)]
    return ("värden: " + ", ".join(parts)) if parts else \
        "inga enskilda värden (bara datakvalitet, metadata, katalogen eller koden)"


# An exception's class before its message ("sources.http.SourceUnavailable: …").
PREFIX = r"^(?:[a-z_]+\.)+[A-Za-z_]+: "


def _first_line(text: str) -> str:
    line = next((s.strip() for s in text.splitlines() if s.strip()), text.strip())
    line = re.sub(PREFIX, "", line)
    return line if len(line) < 400 else line[:397] + "…"


def quarantined_files(inbox: Path) -> list[str]:
    """The files set aside, named by their reports (the files themselves are moved to the
    private store, out of reach of the inbox)."""
    folder = inbox / "quarantine"
    if not folder.is_dir():
        return []
    return sorted(f"{p.name.removesuffix('.problems.md')} (rapport: {p})"
                  for p in folder.glob("*.problems.md") if p.is_file())


def value_notes(published: Path, run_id: str) -> tuple[list[str], list[str]]:
    """Of this run's published facts: the distinct population notes (a lagging population),
    and one line per indicator with values outside its plausible range (meta.data_quality)."""
    if not published.exists():
        return [], []
    con = duckdb.connect(str(published), read_only=True)
    try:
        notes = con.execute(
            "SELECT DISTINCT value_note FROM marts.fact_indicator WHERE run_id = ? AND "
            "value_note IS NOT NULL AND value_note NOT LIKE ? ORDER BY 1",
            [run_id, f"%{RANGE_NOTE}%"]).fetchall()
        flagged = con.execute("SELECT indicator_id, message FROM meta.data_quality WHERE state = "
                              "'flagged' ORDER BY indicator_id").fetchall()
    except duckdb.Error:
        return [], []
    finally:
        con.close()
    return [note for (note,) in notes], [f"{indicator}: {message}" for indicator, message in flagged]


def summarise(instance: dg.DagsterInstance, run_id: str, published: Path, inbox: Path | None = None,
              had_snapshot: bool = True, seconds: float | None = None,
              accept_file: Path | None = None) -> RunSummary:
    records = instance.all_logs(run_id)
    events = [r.dagster_event for r in records if r.dagster_event is not None]
    failures, snapshot_done, changes = [], False, None
    problems, nothing_new, warnings = [], False, []
    for event in events:
        kind = event.event_type_value
        if kind == "STEP_FAILURE":
            error = event.step_failure_data.error
            text = (error.cause.message if error and error.cause else None) or (error.message if error else "")
            # The publication's refusal says what to rebuild on its later lines: keep them.
            line = (re.sub(PREFIX, "", text.strip()) if event.step_key == PUBLICATION_STEP
                    else _first_line(text))
            failures.append(line if line.startswith(f"{event.step_key}:") else f"{event.step_key}: {line}")
        elif kind == "STEP_SUCCESS" and event.step_key == PUBLICATION_STEP:
            snapshot_done = True
        elif kind == "ASSET_MATERIALIZATION" and event.asset_key == SNAPSHOT_KEY:
            counts = event.materialization.metadata.get("changes")
            changes = dict(counts.value) if counts is not None else {}
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == KOLADA_CHECK:
                problems = list(evaluation.metadata["list"].value) if "list" in evaluation.metadata else []
                fresh = evaluation.metadata.get("fresh")
                fetched = evaluation.metadata.get("fetched")
                nothing_new = bool(fetched and fetched.value and fresh is not None and not fresh.value)
            elif not evaluation.passed:  # e.g. a register file set aside
                what = evaluation.description or "se kontrollen i Dagster"
                warnings.append(f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}: "
                                f"{_first_line(what)}")
    if failures or not snapshot_done:
        outcome = "failed"
        if not failures:
            failures.append("publiceringen kördes inte")
    else:
        outcome = "unchanged" if changes is None else "published"
    notes, flagged = value_notes(published, run_id) if outcome == "published" else ([], [])
    return RunSummary(run_id=run_id, outcome=outcome, seconds=seconds, failures=failures,
                      problems=problems, quarantined=quarantined_files(inbox) if inbox else [],
                      notes=notes, flagged=flagged,
                      warnings=warnings, nothing_new=nothing_new, had_snapshot=had_snapshot,
                      published=published, accept_file=accept_file, changes=changes)


def post(instance: dg.DagsterInstance, run_id: str, summary: RunSummary) -> None:
    """End the run's event log with the summary (what the UI shows last)."""
    run = instance.get_run_by_id(run_id)
    if run is not None:
        instance.report_engine_event("\n".join(summary.lines()), dagster_run=run)
