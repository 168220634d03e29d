"""The coordination layer as one Definitions object: the register assets, their folder
sensor and job, the coordination marts and the `register_settings` resource (from
UPPVAXT_REGISTERS_DIR). Merge into the main definitions like the survey subsystem."""

from __future__ import annotations

import dagster as dg

from pipeline.assets import coordination
from pipeline.assets.registers import (RegisterSettings, register_assets, register_demo_files,
                                       register_file, register_folder_sensor, register_job)
from pipeline.runs import locked_in_process


def coordination_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[*register_assets, register_file, register_demo_files,
                *dg.load_assets_from_modules([coordination])],
        jobs=[register_job],
        sensors=[register_folder_sensor],
        resources={"register_settings": RegisterSettings.from_env(), **(resources or {})},
        executor=locked_in_process,
    )
