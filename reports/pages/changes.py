"""Vad har ändrats: the county's changes since the previous publication and since last year."""

from __future__ import annotations

from reports.changes import since_last_year, since_publication
from reports.model import SiteData


def change_counts(year: dict, publication: dict) -> list[tuple[str, int]]:
    """The few numbers the county page shows, linking to the whole page."""
    counts = [("värden utanför förra årets intervall", len(year["beyond"])),
              ("ändrade jämförelser med riket", len(year["compared"])),
              ("vända trender", len(year["trends"])),
              ("kommuner nya på bevakningslistan", len(year["watch_in"])),
              ("kommuner som lämnat bevakningslistan", len(year["watch_out"]))]
    if year["goals"] is not None:
        counts.insert(3, ("mål med ändrat läge", len(year["goals"])))
    return counts


def changes_page(data: SiteData, lan: str) -> dict:
    year, publication = since_last_year(data, lan), since_publication(data, lan)
    return {"lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
            "year": year, "publication": publication, "counts": change_counts(year, publication)}
