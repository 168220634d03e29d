"""Reading survey codebooks (data/catalog/surveys/<id>.yaml) and their catalogue indicators.

The codebook model itself is in transforms/survey_codebook.py. Each scale × cut becomes one
catalogue indicator (`survey_indicators`), with id `<codebook>_<scale>_<cut>`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from sources.catalog import Disclosure, Indicator
from transforms.survey_codebook import MIN_RESPONDENTS, Codebook


class CodebookError(ValueError):
    """A codebook is broken; the message names the file and the field."""


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(codebook)"


def load_codebook(path: Path) -> Codebook:
    """Read and validate one codebook; raise CodebookError naming the file and field."""
    raw = path.read_bytes()
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise CodebookError(f"{path}: not valid UTF-8 YAML: {err}") from err
    if not isinstance(doc, dict):
        raise CodebookError(f"{path}: expected a mapping at the top level")
    if doc.get("id") != path.stem:
        raise CodebookError(f"{path}: field 'id': must equal the file name {path.stem!r}, "
                            f"got {doc.get('id')!r}")
    try:
        return Codebook.model_validate({**doc, "sha256": hashlib.sha256(raw).hexdigest()})
    except ValidationError as err:
        lines = [f"{path}: field '{_field_path(p['loc'])}': {p['msg']}" for p in err.errors()]
        raise CodebookError("\n".join(lines)) from err


def load_codebooks(folder: Path) -> dict[str, Codebook]:
    """All codebooks in `folder` (*.yaml), by id; every broken one is named in the error."""
    books: dict[str, Codebook] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            book = load_codebook(path)
        except CodebookError as err:
            problems.append(str(err))
            continue
        books[book.id] = book
    if problems:
        raise CodebookError("\n".join(problems))
    return books


# Survey cells are hidden by respondents (< 10) with complementary suppression, done in
# transforms/survey.py; no count rule applies on top, hence the empty range 1..0.
SURVEY_DISCLOSURE = Disclosure(suppress_counts=(1, 0), min_denominator=MIN_RESPONDENTS)


def survey_indicators(codebooks: dict[str, Codebook] | list[Codebook]) -> list[Indicator]:
    """One catalogue indicator per codebook × scale × cut."""
    books = codebooks.values() if isinstance(codebooks, dict) else codebooks
    out: list[Indicator] = []
    for book in sorted(books, key=lambda b: b.id):
        for scale_id, scale in book.scales.items():
            for cut_id, cut in scale.cuts.items():
                out.append(Indicator(
                    id=book.indicator_id(scale_id, cut_id),
                    title=cut.title,
                    short_title=cut.short_title,
                    definition=cut.definition,
                    source="survey",
                    source_id=f"{book.id}:{scale_id}:{cut_id}",
                    verification="SURVEY",
                    domain=scale.domain,
                    factor=cut.kind,
                    strategic_factor=scale.strategic_factor,
                    polarity="low_is_good" if cut.kind == "risk" else "high_is_good",
                    value_type="proportion",
                    unit="%",
                    multiplier=100,
                    population="all",
                    age_label=book.grade_label,
                    sex_split="KMT",
                    ci_method="wilson",
                    disclosure=SURVEY_DISCLOSURE,
                    note=(f"Enkät: {book.name}. Andel av de svarande med giltigt värde på "
                          f"skalan (minst {scale.min_items} besvarade frågor). Celler med "
                          f"färre än {MIN_RESPONDENTS} svarande döljs."),
                ))
    return out
