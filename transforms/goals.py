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

Status per year (three outcomes where the evidence may not decide: reached beyond doubt,
near, not yet):
- `achieved` (uppnått): the target is reached beyond the interval: the whole 95 % interval
  lies at or past the target value (lower limit ≥ target for "öka", upper ≤ for "minska");
- `near_target` (nära målet – inte säkert uppnått): the value has reached the target but its
  interval still reaches back over it, or it has no interval at all;
- `on_track` (på väg): a significant change in the right direction;
- `wrong_direction` (åt fel håll): a significant change in the wrong direction;
- `no_certain_change` (ingen säker förändring): otherwise;
- `no_new_measurement` (ännu ingen ny mätning): the baseline year itself, and so the status
  of a goal with no year after its baseline yet;
- `cannot_follow` (går inte att följa): the value is suppressed or missing, the indicator
  has no data for the kommun, sex or breakdown, or the baseline is unknown; the reason is
  given.

Without an interval for a year's value the change cannot be tested; the status then comes
from the direction alone (towards the target: på väg; away: åt fel håll; no change: ingen
säker förändring), and the reason says so.

Flags: a baseline typed in the register that differs from the data's own value for the
baseline year by more than the data's 95 % interval (`baseline_mismatch`; the change is
then measured from the data's value, the one with the same definition as the later years,
and the reason says both numbers); and data that stop (`data_until`: the goal's latest year
with a value, when the kommun's series ends before the indicator's does, or the indicator
has had no value anywhere for more than `STOPPED_AFTER` years before the data's latest year).
"""

from __future__ import annotations

import math

import polars as pl

STATUS = {
    "achieved": "uppnått",
    "near_target": "nära målet – inte säkert uppnått",
    "on_track": "på väg",
    "no_certain_change": "ingen säker förändring",
    "wrong_direction": "åt fel håll",
    "no_new_measurement": "ännu ingen ny mätning",
    "cannot_follow": "går inte att följa",
}
Z95 = 1.959963984540054
STOPPED_AFTER = 2
NO_INTERVAL = "utan konfidensintervall: statusen bygger på riktningen, förändringen kan inte prövas"

BASELINE_SOURCE = {"register": "Basvärdet anges i målregistret", "data": "Basvärdet hämtas ur data för basåret"}

GOAL_SCHEMA = {
    "goal_id": pl.String, "area_code": pl.String, "plan": pl.String, "goal_text": pl.String,
    "indicator_id": pl.String, "sex": pl.String, "breakdown": pl.String, "direction": pl.String,
    "baseline_year": pl.Int32, "baseline_value": pl.Float64, "baseline_source": pl.String,
    "target_year": pl.Int32, "target_value": pl.Float64, "year": pl.Int32, "value": pl.Float64,
    "lower_95": pl.Float64, "upper_95": pl.Float64, "change": pl.Float64, "change_z": pl.Float64,
    "change_significant": pl.Boolean, "status": pl.String, "status_label": pl.String,
    "status_reason": pl.String, "baseline_data_value": pl.Float64, "baseline_mismatch": pl.Boolean,
    "data_until": pl.Int32, "is_latest": pl.Boolean,
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


def _status(row: dict, target: float, direction: str, significant: bool | None,
            change: float) -> str:
    """The status of one year (see the module text)."""
    if _reached(row["value"], target, direction):
        bound = row["lower_95"] if direction == "increase" else row["upper_95"]
        return "achieved" if bound is not None and _reached(bound, target, direction) else "near_target"
    right = change > 0 if direction == "increase" else change < 0
    if significant is None:  # no interval: the direction alone
        return "no_certain_change" if change == 0 else "on_track" if right else "wrong_direction"
    if not significant:
        return "no_certain_change"
    return "on_track" if right else "wrong_direction"


# The fact columns goal_progress reads: a wide mart is loaded with these only.
FACT_COLUMNS = ["indicator_id", "area_code", "sex", "breakdown", "period", "value", "lower_95",
                "upper_95", "status_reason"]


def goal_progress(goals: pl.DataFrame, facts: pl.DataFrame, indicators: pl.DataFrame) -> pl.DataFrame:
    """marts.goal_progress: goal × year since the baseline."""
    known = {r["indicator_id"]: r for r in indicators.iter_rows(named=True)}
    latest_data = facts["period"].max()
    valued = facts.filter(pl.col("value").is_not_null())
    indicator_until = dict(valued.group_by("indicator_id").agg(pl.col("period").max()).iter_rows())
    wanted = facts.filter(pl.col("indicator_id").is_in(goals["indicator_id"].unique().to_list())
                          & pl.col("area_code").is_in(goals["area_code"].unique().to_list()))
    by_key: dict[tuple, list[dict]] = {}
    for row in wanted.sort("period").iter_rows(named=True):
        key = (row["indicator_id"], row["area_code"], row["sex"], row["breakdown"])
        by_key.setdefault(key, []).append(row)
    out = []
    for goal in goals.sort("goal_id").iter_rows(named=True):
        rows = by_key.get((goal["indicator_id"], goal["area_code"], goal["sex"], goal["breakdown"]), [])
        followed = _follow(goal, rows, known.get(goal["indicator_id"]))
        out += _stopped(followed, rows, indicator_until.get(goal["indicator_id"]), latest_data)
    frame = pl.DataFrame(out, schema={k: v for k, v in GOAL_SCHEMA.items()
                                      if k not in ("status_label", "is_latest")})
    return frame.with_columns(
        status_label=pl.col("status").replace_strict(STATUS),
        is_latest=pl.col("year") == pl.col("year").max().over("goal_id"),
    ).select(list(GOAL_SCHEMA)).cast(GOAL_SCHEMA).sort("goal_id", "year")


def _stopped(followed: list[dict], rows: list[dict], indicator_until: int | None,
             latest_data: int | None) -> list[dict]:
    """Say on the goal's latest row when its data stop (see the module text)."""
    for row in followed:
        row.setdefault("data_until", None)
    valued = [r["period"] for r in rows if r["value"] is not None]
    until = max(valued) if valued else None
    if not followed or until is None or indicator_until is None:
        return followed
    reason = None
    if until < indicator_until:
        reason = f"kommunens värden slutar {until}; indikatorn har värden till {indicator_until}"
    elif latest_data is not None and latest_data - indicator_until > STOPPED_AFTER:
        reason = f"indikatorn har inga värden efter {indicator_until}"
    if reason:
        last = followed[-1]
        last["data_until"] = until
        last["status_reason"] = "; ".join(t for t in (last["status_reason"], reason) if t)
    return followed


def _follow(goal: dict, rows: list[dict], indicator: dict | None) -> list[dict]:
    base = {k: goal[k] for k in ("goal_id", "area_code", "plan", "goal_text", "indicator_id", "sex",
                                 "breakdown", "direction", "baseline_year", "target_year",
                                 "target_value")}
    base.update(baseline_data_value=None, baseline_mismatch=None)

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
    note = None
    if goal["baseline_value"] is not None:
        baseline, source = goal["baseline_value"], "register"
        if usable:
            base["baseline_data_value"] = at_base["value"]
            base["baseline_mismatch"] = _mismatch(goal["baseline_value"], at_base)
            if base["baseline_mismatch"]:
                baseline = at_base["value"]
                note = (f"basvärdet i registret ({_n(goal['baseline_value'])}) skiljer sig från data för "
                        f"{goal['baseline_year']} ({_n(at_base['value'])}, {_interval(at_base)}); "
                        "förändringen mäts från datas värde")
    elif usable:
        baseline, source = at_base["value"], "data"
    else:
        why = (at_base or {}).get("status_reason") or f"inget värde {goal['baseline_year']}"
        return [cannot(r["period"], f"basvärdet saknas ({why}); ange det i registret", r)
                for r in followed]
    # The baseline's own standard error counts when the baseline is the data's value.
    se_base = _se(at_base["lower_95"], at_base["upper_95"]) if usable else None
    shown_baseline = goal["baseline_value"] if source == "register" else baseline
    out = []
    if at_base is None:  # the baseline year has no data row: the register's value
        out.append({**base, "baseline_value": shown_baseline, "baseline_source": source,
                    "year": goal["baseline_year"], "value": baseline, "lower_95": None, "upper_95": None,
                    "change": 0.0, "change_z": None, "change_significant": None,
                    "status": "no_new_measurement",
                    "status_reason": "basvärdet från registret; uppvaxt har inget värde detta år"})
    for row in followed:
        if row["value"] is None:
            out.append(cannot(row["period"], row["status_reason"] or "värdet saknas", row, baseline, source))
            continue
        if row["period"] == goal["baseline_year"]:  # nothing measured since, by definition
            out.append({**base, "baseline_value": shown_baseline, "baseline_source": source,
                        "year": row["period"], "value": row["value"], "lower_95": row["lower_95"],
                        "upper_95": row["upper_95"], "change": row["value"] - baseline, "change_z": None,
                        "change_significant": None, "status": "no_new_measurement",
                        "status_reason": "; ".join(t for t in ("basåret", note) if t)})
            continue
        change = row["value"] - baseline
        z, significant = change_test(row["value"], _se(row["lower_95"], row["upper_95"]), baseline, se_base)
        status = _status(row, goal["target_value"], goal["direction"], significant, change)
        reasons = [note]
        if status == "near_target":
            reasons.append("intervallet når tillbaka förbi målvärdet" if significant is not None
                           else "utan konfidensintervall går det inte att säga att målet är säkert nått")
        elif significant is None:
            reasons.append(NO_INTERVAL)
        out.append({**base, "baseline_value": shown_baseline, "baseline_source": source,
                    "year": row["period"], "value": row["value"], "lower_95": row["lower_95"],
                    "upper_95": row["upper_95"], "change": change, "change_z": z,
                    "change_significant": significant, "status": status,
                    "status_reason": "; ".join(t for t in reasons if t) or None})
    if all(r["status"] == "no_new_measurement" for r in out):
        out[-1]["status_reason"] = "; ".join(t for t in ("ännu ingen mätning efter basåret", note) if t)
    return out


def _mismatch(typed: float, at_base: dict) -> bool:
    """The typed baseline lies outside the data's 95 % interval for the baseline year (or,
    without an interval, differs from the data's value beyond rounding)."""
    lower, upper = at_base["lower_95"], at_base["upper_95"]
    if lower is None or upper is None:
        return abs(typed - at_base["value"]) > 1e-6 * max(1.0, abs(at_base["value"]))
    return not lower <= typed <= upper


def _n(value: float) -> str:
    return f"{value:.4g}".replace(".", ",")


def _interval(row: dict) -> str:
    if row["lower_95"] is None or row["upper_95"] is None:
        return "utan intervall"
    return f"intervall {_n(row['lower_95'])}–{_n(row['upper_95'])}"
