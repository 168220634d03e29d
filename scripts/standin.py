"""Serve the loopback stand-in for Kolada v3 and SCB PxWebApi 2.0 (sources/demo/standin.py).

    .venv/bin/python scripts/standin.py --port 8765 --fail-rate 0.1 \
        --scale N07403=95 --empty N17461 --retire N02902 --scb-last-year 2024

then, in another terminal:

    UPPVAXT_SOURCE=live UPPVAXT_KOLADA_URL=http://127.0.0.1:8765/v3 \
        UPPVAXT_SCB_URL=http://127.0.0.1:8765/api/v2 make run

Stop it (Ctrl-C) to see the host down.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sources.catalog import load_indicators, load_source_settings  # noqa: E402
from sources.demo.costs import cost_indicators  # noqa: E402
from sources.demo.standin import StandIn  # noqa: E402
from sources.demo.world import DemoWorld  # noqa: E402
from sources.geography import load_kommuner  # noqa: E402

CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog"


def pairs(values: list[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of answers that are 429/503")
    parser.add_argument("--retire", nargs="*", default=[], help="KPI ids the source no longer knows")
    parser.add_argument("--empty", nargs="*", default=[], help="KPI ids with no data")
    parser.add_argument("--scale", nargs="*", default=[], help="KPI=factor on the values")
    parser.add_argument("--title", nargs="*", default=[], help="KPI=new title")
    parser.add_argument("--modified", nargs="*", default=[], help="KPI=YYYY-MM-DD last change")
    parser.add_argument("--scb-last-year", type=int, default=None, help="SCB has no later years")
    parser.add_argument("--scb-updated", default=None, help="SCB tables' `updated` stamp")
    args = parser.parse_args()
    years = load_source_settings(CATALOG / "sources.yaml").years.span
    world = DemoWorld.build(load_kommuner(), load_indicators(CATALOG / "indicators.yaml")
                            + cost_indicators(CATALOG), years)
    world = world.variant(
        kpi_retired=set(args.retire), kpi_empty=set(args.empty),
        kpi_scale={k: float(v) for k, v in pairs(args.scale).items()},
        kpi_titles=pairs(args.title), kpi_modified=pairs(args.modified),
        scb_last_year=args.scb_last_year,
        scb_updated={t: args.scb_updated for t in ("TAB638", "TAB5557")} if args.scb_updated else {})
    standin = StandIn(world, fail_rate=args.fail_rate, port=args.port).start()
    print(f"UPPVAXT_KOLADA_URL={standin.kolada_url} UPPVAXT_SCB_URL={standin.scb_url}", flush=True)
    try:
        while True:
            time.sleep(60)
            print(f"{standin.requests} requests, {standin.failed} answered 429/503", flush=True)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
