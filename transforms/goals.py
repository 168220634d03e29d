"""Goal follow-up: each municipal goal followed year by year from its baseline.

For every year from the baseline year on in which the goal's indicator has a row for the
kommun (survey indicators therefore follow the survey waves), the observed value and its
95 % interval, the change from the baseline, and whether that change is beyond chance.

The test for the change is the one for the difference of two independent estimates
(Altman & Bland 2003, BMJ 326:219): each estimate's standard error is taken from its 95 %
interval, SE = (upper − lower) / (2 · 1.96); the difference d = value − baseline has
SE_d = √(SE_value² + SE_baseline²), and the change is significant when |d| / SE_d > 1.96.
A baseline typed into the register without data behind it counts as exact (SE 0) unless the
data have an interval for the baseline year, whose width is then used. Without an interval
for the year's value the change cannot be tested (`change_significant` is null).

Status per year:
- `achieved` (uppnått): the value has reached the target value (in the goal's direction);
- `on_track` (på väg): a significant change in the right direction;
- `wrong_direction` (åt fel håll): a significant change in the wrong direction;
- `no_certain_change` (ingen säker förändring): otherwise;
- `cannot_follow` (går inte att följa): the value is suppressed or missing, the indicator
  has no data for the kommun, sex or breakdown, or the baseline is unknown; the reason is
  given.
"""

from __future__ import annotations

import math

import polars as pl

STATUS = {
    "achieved": "uppnått",
    "on_track": "på väg",
    "no_certain_change": "ingen säker förändring",
    "wrong_direction": "åt fel håll",
    "cannot_follow": "går inte att följa",
}
Z95 = 1.959963984540054

BASELINE_SOURCE = {"register": "Basvärdet anges i målregistret", "data": "Basvärdet hämtas ur data för basåret"}

GOAL_SCHEMA = {
    "goal_id": pl.String, "area_code": pl.String, "plan": pl.String, "goal_text": pl.String,
    "indicator_id": pl.String, "sex": pl.String, "breakdown": pl.String, "direction": pl.String,
    "baseline_year": pl.Int32, "baseline_value": pl.Float64, "baseline_source": pl.String,
    "target_year": pl.Int32, "target_value": pl.Float64, "year": pl.Int32, "value": pl.Float64,
    "lower_95": pl.Float64, "upper_95": pl.Float64, "change": pl.Float64, "change_z": pl.Float64,
    "change_significant": pl.Boolean, "status": pl.String, "status_label": pl.String,
    "status_reason": pl.String, "is_latest": pl.Boolean,
}
_SEX_WORDS = {"T": "totalt", "K": "flickor/kvinnor", "M": "pojkar/män"}


def _se(lower: float | None, upper: float | None) -> float | None:
    if lower is None or upper is None:
        return None
    return (upper - lower) / (2 * Z95)


def change_test(value: float, se_value: float | None, baseline: float,
                se_baseline: float | None) -> tuple[float | None, bool | None]:
    """z and significance of value − baseline for two independent estimates."""
    if se_value is None:
        return None, None
    se = math.sqrt(se_value ** 2 + (se_baseline or 0.0) ** 2)
    change = value - baseline
    if se == 0:
        return None, change != 0
    z = change / se
    return z, abs(z) > Z95


def _reached(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "increase" else value <= target


def _status(value: float, target: float, direction: str, significant: bool | None,
            change: float) -> str:
    if _reached(value, target, direction):
        return "achieved"
    if not significant:
        return "no_certain_change"
    right = change > 0 if direction == "increase" else change < 0
    return "on_track" if right else "wrong_direction"


# The fact columns goal_progress reads: a wide mart is loaded with these only.
FACT_COLUMNS = ["indicator_id", "area_code", "sex", "breakdown", "period", "value", "lower_95",
                "upper_95", "status_reason"]


def goal_progress(goals: pl.DataFrame, facts: pl.DataFrame, indicators: pl.DataFrame) -> pl.DataFrame:
    """marts.goal_progress: goal × year since the baseline."""
    known = {r["indicator_id"]: r for r in indicators.iter_rows(named=True)}
    wanted = facts.filter(pl.col("indicator_id").is_in(goals["indicator_id"].unique().to_list())
                          & pl.col("area_code").is_in(goals["area_code"].unique().to_list()))
    by_key: dict[tuple, list[dict]] = {}
    for row in wanted.sort("period").iter_rows(named=True):
        key = (row["indicator_id"], row["area_code"], row["sex"], row["breakdown"])
        by_key.setdefault(key, []).append(row)
    out = []
    for goal in goals.sort("goal_id").iter_rows(named=True):
        out += _follow(goal, by_key.get((goal["indicator_id"], goal["area_code"], goal["sex"],
                                         goal["breakdown"]), []), known.get(goal["indicator_id"]))
    frame = pl.DataFrame(out, schema={k: v for k, v in GOAL_SCHEMA.items()
                                      if k not in ("status_label", "is_latest")})
    return frame.with_columns(
        status_label=pl.col("status").replace_strict(STATUS),
        is_latest=pl.col("year") == pl.col("year").max().over("goal_id"),
    ).select(list(GOAL_SCHEMA)).cast(GOAL_SCHEMA).sort("goal_id", "year")


def _follow(goal: dict, rows: list[dict], indicator: dict | None) -> list[dict]:
    base = {k: goal[k] for k in ("goal_id", "area_code", "plan", "goal_text", "indicator_id", "sex",
                                 "breakdown", "direction", "baseline_year", "target_year",
                                 "target_value")}

    def cannot(year: int, reason: str, data: dict | None = None, baseline=None, source=None) -> dict:
        return {**base, "baseline_value": baseline, "baseline_source": source, "year": year,
                "value": (data or {}).get("value"), "lower_95": (data or {}).get("lower_95"),
                "upper_95": (data or {}).get("upper_95"), "change": None, "change_z": None,
                "change_significant": None, "status": "cannot_follow", "status_reason": reason}

    where = f"kommun {goal['area_code']}, {_SEX_WORDS.get(goal['sex'], goal['sex'])}" + (
        f", {goal['breakdown']}" if goal["breakdown"] != "all" else "")
    if indicator is None:
        return [cannot(goal["baseline_year"], f"indikatorn {goal['indicator_id']} finns inte längre i katalogen")]
    if goal["sex"] != "T" and indicator.get("sex_split") == "T":
        return [cannot(goal["baseline_year"], f"indikatorn {goal['indicator_id']} redovisas inte per kön")]
    followed = [r for r in rows if r["period"] >= goal["baseline_year"]]
    if not followed:
        return [cannot(goal["baseline_year"], f"indikatorn {goal['indicator_id']} har inga värden för "
                                              f"{where} från {goal['baseline_year']}")]
    at_base = next((r for r in followed if r["period"] == goal["baseline_year"]), None)
    usable = at_base is not None and at_base["value"] is not None
    if goal["baseline_value"] is not None:
        baseline, source = goal["baseline_value"], "register"
    elif usable:
        baseline, source = at_base["value"], "data"
    else:
        why = (at_base or {}).get("status_reason") or f"inget värde {goal['baseline_year']}"
        return [cannot(r["period"], f"basvärdet saknas ({why}); ange det i registret", r)
                for r in followed]
    se_base = _se(at_base["lower_95"], at_base["upper_95"]) if usable else None
    years = followed if at_base is not None else [None, *followed]
    out = []
    for row in years:
        if row is None:  # the baseline year itself has no data row: the register's value
            out.append({**base, "baseline_value": baseline, "baseline_source": source,
                        "year": goal["baseline_year"], "value": baseline, "lower_95": None,
                        "upper_95": None, "change": 0.0, "change_z": None, "change_significant": False,
                        "status": _status(baseline, goal["target_value"], goal["direction"], False, 0.0),
                        "status_reason": "basvärdet från registret; uppvaxt har inget värde detta år"})
            continue
        if row["value"] is None:
            out.append(cannot(row["period"], row["status_reason"] or "värdet saknas", row, baseline, source))
            continue
        is_base = row["period"] == goal["baseline_year"]
        change = 0.0 if is_base and source == "data" else row["value"] - baseline
        z, significant = ((None, False) if is_base and source == "data" else
                          change_test(row["value"], _se(row["lower_95"], row["upper_95"]), baseline, se_base))
        reason = None
        if significant is None:
            reason = "värdet saknar konfidensintervall; förändringen kan inte prövas"
        out.append({**base, "baseline_value": baseline, "baseline_source": source, "year": row["period"],
                    "value": row["value"], "lower_95": row["lower_95"], "upper_95": row["upper_95"],
                    "change": change, "change_z": z, "change_significant": significant,
                    "status": _status(row["value"], goal["target_value"], goal["direction"], significant, change),
                    "status_reason": reason})
    return out
