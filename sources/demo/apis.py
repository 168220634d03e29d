"""Kolada v3 and SCB PxWebApi 2.0 as in-process HTTP services over the demo world.

Demo mode plugs these into httpx as a transport, so the real clients (id chunking,
pagination, cell-limit splitting, raw storage) and the real parsers run unchanged on
answers in the exact wire formats. The services also refuse what the real APIs refuse
(too many ids, too many cells, unknown or duplicated codes), so client mistakes show up in
demo runs as well. Like the real APIs they say what changed: Kolada's data routes honour
`from_date` (only KPIs changed on or after that date answer), and SCB's `/tables/{id}`
and every dataset carry the table's `updated` stamp (research/data-sources.md §1.2, §2.2).
"""

from __future__ import annotations

import json
import math
from datetime import date
from urllib.parse import urlencode

import httpx
import numpy as np
import orjson

from sources.demo.world import DEMO_SCB_UPDATED, MAX_AGE, DemoWorld

DEMO_KOLADA_URL = "http://kolada.demo/v3"
DEMO_SCB_URL = "http://scb.demo/api/v2"

SCB_CONFIG = {
    "apiVersion": "2.2.0",
    "appVersion": "demo",
    "languages": [{"id": "sv", "label": "Svenska"}],
    "defaultLanguage": "sv",
    "maxDataCells": 150000,
    "maxCallsPerTimeWindow": 30,
    "timeWindow": 10,
    "license": "https://creativecommons.org/share-your-work/public-domain/cc0/",
    "sourceReferences": [{"language": "sv", "text": "Källa: SCB (demodata)"}],
    "defaultDataFormat": "json-stat2",
    "dataFormats": ["json-stat2"],
    "features": [],
}


def _json(status: int, doc: object) -> httpx.Response:
    # orjson writes the same bytes as json.dumps(ensure_ascii=False, separators=(",", ":"))
    # for these documents, five times faster (270,000 values a demo build).
    return httpx.Response(status, content=orjson.dumps(doc),
                          headers={"content-type": "application/json; charset=utf-8"})


class KoladaDemoApi:
    def __init__(self, world: DemoWorld):
        self.world = world
        self.meta = world.kpi_metadata()
        self._answers: dict[tuple, list] = {}  # all rows of one query, over its pages

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = [p for p in request.url.path.split("/") if p]
        if not parts or parts[0] != "v3":
            return _json(404, {"error": "not found"})
        parts = parts[1:]
        params = dict(request.url.params)
        try:
            per_page = int(params.get("per_page", 5000))
            page = int(params.get("page", 1))
        except ValueError:
            return _json(400, {"error": "bad paging parameter"})
        if not 0 < per_page <= 5000 or page < 1:
            return _json(400, {"error": "per_page must be 1..5000"})
        if parts[:1] == ["kpi"] and len(parts) == 2:
            ids = parts[1].split(",")
            if len(ids) > 25:
                return _json(400, {"error": "too many ids"})
            rows = [self.meta[i] for i in ids if i in self.meta]
        elif parts[:2] == ["data", "kpi"] and len(parts) == 5 and parts[3] == "year":
            ids, years = parts[2].split(","), parts[4].split(",")
            if len(ids) > 25 or len(years) > 25:
                return _json(400, {"error": "too many ids"})
            wanted = {int(y) for y in years if y.isdigit()}
            since = params.get("from_date")
            if since is not None:
                try:
                    date.fromisoformat(since)
                except ValueError:
                    return _json(400, {"error": "from_date must be YYYY-MM-DD"})
                ids = [kpi for kpi in ids if self.world.source.modified(kpi) >= since]
            key = (tuple(ids), tuple(sorted(wanted)))
            if key not in self._answers:
                self._answers = {key: [o for kpi in ids for o in self._objects(kpi, wanted)]}
            rows = self._answers[key]
        elif parts == ["municipality"]:
            rows = [{"id": c, "title": c, "type": "K"} for c in self.world.kommun_codes]
        else:
            return _json(404, {"error": "unknown route"})
        start = (page - 1) * per_page
        page_rows = rows[start:start + per_page]
        if page_rows and isinstance(page_rows[0], bytes):  # objects already in JSON, written as
            page_rows = [orjson.Fragment(b",".join(page_rows))]  # they are, commas between
        doc: dict = {"values": page_rows, "count": len(rows)}
        base = str(request.url.copy_with(query=None))  # keeps the port of a stand-in
        keep = {k: v for k, v in params.items() if k == "from_date"}
        if start + per_page < len(rows):
            doc["next_url"] = f"{base}?{urlencode({**keep, 'page': page + 1, 'per_page': per_page})}"
        if page > 1:
            doc["previous_url"] = f"{base}?{urlencode({**keep, 'page': page - 1, 'per_page': per_page})}"
        return _json(200, doc)

    def _objects(self, kpi: str, years: set[int]) -> list[bytes]:
        """The KPI's objects of these years, each as JSON (as drawn, unless rescaled)."""
        if self.world.kolada_rescaled(kpi):
            return [orjson.dumps(o) for o in self.world.kolada_objects(kpi) if o["period"] in years]
        return [text for period, text in self.world.kolada_json(kpi) if period in years]


class _Table:
    def __init__(self, table_id: str, label: str, contents: list[str], years: list[int],
                 civil: list[str], ages: list[str], sexes: list[str], perturbed: bool):
        self.id, self.label, self.perturbed = table_id, label, perturbed
        self.contents, self.all_years = contents, [str(y) for y in years]
        self.civil, self.ages, self.sexes = civil, ages, sexes
        self.years = self.all_years


class ScbDemoApi:
    def __init__(self, world: DemoWorld):
        self.world = world
        self.kommun_index = {c: i for i, c in enumerate(world.kommun_codes)}
        self.lan_of = np.array(world.lan_codes)
        self.year_index = {y: i for i, y in enumerate(world.years)}
        single = [str(a) for a in range(MAX_AGE)]
        self.tables = {
            "TAB638": _Table("TAB638", "Folkmängden efter region, civilstånd, ålder och kön. År 1968-2024",
                             ["BE0101N1", "BE0101N2"], [y for y in world.years if y <= 2024],
                             ["OG", "G", "SK", "ÄNKL"], single + ["100+", "tot"], ["1", "2"], False),
            "TAB5557": _Table("TAB5557", "Folkmängden efter region, civilstånd, ålder och kön. År 2025-",
                              ["000007ME", "000007MG"], [y for y in world.years if y >= 2025],
                              ["OG", "G", "SK", "ÄNKL", "SC"], single + ["100+1", "TOT1", "TotSA"],
                              ["1", "2", "TotSa"], True),
        }
        self.regions = ["00"] + sorted(set(world.lan_codes)) + list(world.kommun_codes)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = [p for p in request.url.path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            return _json(404, {"error": "not found"})
        parts = parts[2:]
        if parts == ["config"]:
            return _json(200, SCB_CONFIG)
        if len(parts) in (2, 3) and parts[0] == "tables" and parts[1] in self.tables:
            table = self._published(self.tables[parts[1]])
            route = parts[2] if len(parts) == 3 else ""
            if route == "" and request.method == "GET":
                return _json(200, self._info(table))
            if route == "metadata" and request.method == "GET":
                return _json(200, self._dataset(table, self._dimensions(table), []))
            if route == "data" and request.method == "POST":
                return self._data(table, request)
        return _json(404, {"error": "unknown route"})

    def _published(self, table: _Table) -> _Table:
        """The table as SCB has it today: years after a lagging release are not there yet."""
        last = self.world.source.scb_last_year
        table.years = [y for y in table.all_years if last is None or int(y) <= last]
        return table

    def _updated(self, table: _Table) -> str:
        return self.world.source.scb_updated.get(table.id, DEMO_SCB_UPDATED)

    def _info(self, table: _Table) -> dict:
        """GET /tables/{id}: the table's description, with `updated` (PxWebApi 2.0 TableInfo)."""
        return {"language": "sv", "id": table.id, "label": table.label, "description": "",
                "updated": self._updated(table), "firstPeriod": table.years[0] if table.years else None,
                "lastPeriod": table.years[-1] if table.years else None, "timeUnit": "Annual",
                "discontinued": False, "source": "SCB (demodata)", "subjectCode": "BE",
                "variableNames": ["region", "civilstånd", "ålder", "kön", "tabellinnehåll", "år"]}

    def _dimensions(self, table: _Table) -> dict[str, list[str]]:
        return {"Region": self.regions, "Civilstand": table.civil, "Alder": table.ages,
                "Kon": table.sexes, "ContentsCode": table.contents, "Tid": table.years}

    def _dataset(self, table: _Table, dims: dict[str, list[str]], values: list) -> dict:
        eliminable = {"Region": True, "Civilstand": False, "Alder": True, "Kon": True,
                      "ContentsCode": False, "Tid": False}
        doc = {
            "version": "2.0", "class": "dataset", "label": table.label, "source": "SCB (demodata)",
            "updated": self._updated(table),
            "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
            "id": list(dims), "size": [len(v) for v in dims.values()],
            "dimension": {
                name: {"label": name.lower(),
                       "category": {"index": {c: i for i, c in enumerate(codes)},
                                    "label": {c: c for c in codes}},
                       "extension": {"elimination": eliminable[name], "show": "value"}}
                for name, codes in dims.items()
            },
            "extension": {"px": {"tableid": table.id, "decimals": 0}},
            "value": values,
        }
        if table.perturbed:
            doc["note"] = ["Från och med 2025 skyddas uppgifterna med Cell Key Method; "
                           "delar summerar inte alltid till totalen."]
        return doc

    def _data(self, table: _Table, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content)
            selection = {s["variableCode"]: [str(c) for c in s["valueCodes"]] for s in body["selection"]}
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "Malformed selection"})
        known = self._dimensions(table)
        for name, codes in selection.items():
            if name not in known:
                return _json(400, {"error": f"Non-existent variable {name}"})
            if len(set(codes)) != len(codes):
                return httpx.Response(500, content=b"")  # what SCB does on duplicated codes
            bad = [c for c in codes if c not in known[name]]
            if bad:
                return _json(400, {"error": f"Non-existent value {bad[0]} for {name}"})
        for name in ("Civilstand", "ContentsCode", "Tid"):
            if name not in selection:
                return _json(400, {"error": f"Missing selection for mandantory variable {name}"})
        dims = {name: selection.get(name, []) for name in known if name in selection}
        cells = math.prod(len(v) for v in dims.values())
        if cells > SCB_CONFIG["maxDataCells"]:
            return _json(403, {"error": f"Too many cells selected ({cells})"})
        values = self._values(table, dims)
        return _json(200, self._dataset(table, dims, values))

    def _values(self, table: _Table, dims: dict[str, list[str]]) -> list:
        """Values in row-major order over Region, Civilstand, Alder, Kon, ContentsCode, Tid."""
        world = self.world
        n_k = len(world.kommun_codes)
        regions, civils, ages = dims["Region"], dims["Civilstand"], dims["Alder"]
        sexes, contents, years = dims["Kon"], dims["ContentsCode"], dims["Tid"]
        region_m = np.zeros((len(regions), n_k))
        for r, code in enumerate(regions):
            if code == "00":
                region_m[r] = 1
            elif len(code) == 2:
                region_m[r] = self.lan_of == code
            else:
                region_m[r, self.kommun_index[code]] = 1
        age_m = np.zeros((len(ages), MAX_AGE + 1))
        for a, code in enumerate(ages):
            if code in ("tot", "TOT1", "TotSA"):
                age_m[a] = 1
            else:
                age_m[a, MAX_AGE if code.startswith("100+") else int(code)] = 1
        sex_m = np.array([[1, 1] if c == "TotSa" else [c == "1", c == "2"] for c in sexes], dtype=float)
        civil = world.civil_population  # [status, kommun, year, age, sex]
        statuses = ["OG", "G", "SK", "ÄNKL"]
        civ_m = np.array([[1.0] * 4 if c == "SC" else [float(c == s) for s in statuses] for c in civils])
        year_idx = [self.year_index[int(y)] for y in years]
        block = civil[:, :, year_idx]  # [status, kommun, year, age, sex]
        out = np.einsum("rk,cs,sktgx,ag,zx->rcazt", region_m, civ_m, block, age_m, sex_m,
                        optimize=True)
        if table.perturbed:
            r_num = np.array([int(c) for c in regions])[:, None, None, None, None]
            c_num = np.arange(len(civils))[None, :, None, None, None]
            a_num = np.array([200 if c in ("tot", "TOT1", "TotSA") else MAX_AGE if c.startswith("100+")
                              else int(c) for c in ages])[None, None, :, None, None]
            s_num = np.array([0 if c == "TotSa" else int(c) for c in sexes])[None, None, None, :, None]
            t_num = np.array([int(y) for y in years])[None, None, None, None, :]
            key = (r_num * 1_000_003 + c_num * 7_919 + a_num * 10_007 + s_num * 101 + t_num * 7)
            noise = (key * 2_654_435_761 % 4_294_967_296) % 5 - 2
            out = np.where(out > 0, np.maximum(out + noise, 0), out)
        is_population = np.array([c in ("BE0101N1", "000007ME") for c in contents])
        full = np.where(is_population[None, None, None, None, :, None],
                        out[:, :, :, :, None, :], np.nan)
        flat = full.ravel()
        gaps = np.isnan(flat)
        counts = np.where(gaps, 0, flat).astype(np.int64).tolist()
        return [None if gap else n for n, gap in zip(counts, gaps.tolist(), strict=True)]


def demo_transport(world: DemoWorld) -> httpx.MockTransport:
    """One transport serving both demo APIs, routed by host."""
    kolada, scb = KoladaDemoApi(world), ScbDemoApi(world)
    hosts = {httpx.URL(DEMO_KOLADA_URL).host: kolada.handle, httpx.URL(DEMO_SCB_URL).host: scb.handle}

    def handle(request: httpx.Request) -> httpx.Response:
        handler = hosts.get(request.url.host)
        return handler(request) if handler else _json(404, {"error": "unknown host"})

    return httpx.MockTransport(handle)
