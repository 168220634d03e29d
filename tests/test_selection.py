"""Selection among applicants: need, readiness stage, current support, qualitative review."""

from __future__ import annotations

from datetime import date

import polars as pl

from sources.registers.layouts import SUPPORT_TYPE
from tests.test_support import support
from transforms.selection import SelectionSettings, select


def applications(kind: str = "ekonomiskt_stod", factors: str = "skola,fritid") -> pl.DataFrame:
    return pl.DataFrame({"call_id": ["C1"] * 6, "call_title": ["Utlysning"] * 6, "factors": [factors] * 6,
                         "support_kind": [kind] * 6,
                         "area_code": ["0580", "0581", "0582", "0583", "0584", "0585"],
                         "applied_on": [date(2025, 2, 1)] * 6})


def need() -> pl.DataFrame:
    # kommun → (skola p, fritid p, rank interval on the better factor)
    rows = {"0580": (0.9, 0.2, (5, 30)), "0581": (0.1, 0.95, (3, 20)), "0582": (0.8, 0.1, (8, 40)),
            "0583": (0.7, 0.0, (10, 200)), "0584": (0.6, 0.6, (20, 60)), "0585": (None, None, None)}
    out = []
    for code, (p_skola, p_fritid, interval) in rows.items():
        for factor, p in (("skola", p_skola), ("fritid", p_fritid)):
            out.append({"area_code": code, "area_type": "kommun", "factor": factor, "p_top_fifth": p,
                        "status": "missing" if p is None else "ok", "rank": None if p is None else interval[0] + 2,
                        "rank_median": None if p is None else float(interval[0] + 3),
                        "rank_lower": None if p is None else interval[0],
                        "rank_upper": None if p is None else interval[1], "n_ranked": 290})
    return pl.DataFrame(out)


STAGES = pl.DataFrame({"area_code": ["0580", "0581", "0581"], "assessment_id": ["a", "b0", "b"],
                       "assessed_on": [date(2025, 1, 10), date(2023, 1, 1), date(2025, 1, 12)],
                       "stage": [6, 7, 3]}, schema_overrides={"stage": pl.Int8})


def test_proposal_order_reasons_and_review():
    current = support([("Region", "0582", "skola", "processtod", date(2025, 1, 1), date(2025, 12, 31), None),
                       ("Region", "0580", "narsamhalle", "processtod", date(2025, 1, 1), date(2025, 12, 31), None)])
    out = select(applications(), need(), STAGES, current, SelectionSettings(max_proposed=2), SUPPORT_TYPE)
    row = {r["area_code"]: r for r in out.iter_rows(named=True)}
    # 0583's interval 10–200 spans 190 of 290 ranks (> 35 %): not ranked.
    assert row["0583"]["proposal"] == "qualitative_review" and row["0583"]["order"] is None
    assert row["0585"]["proposal"] == "qualitative_review" and "kan inte beräknas" in row["0585"]["reasons"]
    # 0581 has the highest need (fritid 0.95) but its latest stage (3) is too early for money.
    assert row["0581"]["need_factor"] == "fritid" and row["0581"]["readiness_stage"] == 3
    assert row["0581"]["stage_suitable"] is False and row["0581"]["proposal"] == "not_proposed"
    # Order: 0580 (0.9, stage 6), 0582 (0.8, unassessed, 1 support), 0584 (0.6), then 0581.
    assert [r["area_code"] for r in out.filter(pl.col("order").is_not_null()).iter_rows(named=True)] == \
        ["0580", "0582", "0584", "0581"]
    assert [row[k]["proposal"] for k in ("0580", "0582", "0584")] == ["propose", "propose", "not_proposed"]
    assert row["0582"]["current_supports"] == 1 and row["0580"]["current_supports"] == 0  # other factor
    assert "inte bedömd" in row["0582"]["reasons"]
    assert "redan 2 kommuner" in row["0584"]["reasons"]
    assert all(r.endswith("beslutet fattas av handläggarna.") for r in out["reasons"])
    assert row["0580"]["reasons"].startswith("Behov: 90 % sannolikhet att höra till den femtedel")


def test_a_suitable_stage_depends_on_the_kind_of_support():
    out = select(applications(kind="kunskapsstod"), need(), STAGES, support([]), SelectionSettings(), SUPPORT_TYPE)
    row = {r["area_code"]: r for r in out.iter_rows(named=True)}
    assert row["0581"]["stage_suitable"] is True and row["0581"]["proposal"] == "propose"
    assert row["0581"]["order"] == 1
