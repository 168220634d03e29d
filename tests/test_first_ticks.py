"""`dagster dev` after `make run` launches nothing that would do nothing (issue 15 #10): the
sensors' first ticks see that the build already read the survey files and the registers,
and still launch a run for a file that changed after it."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from pipeline.assets.registers import register_folder_sensor
from pipeline.sensors import survey_value_sensor
from tests.pipeline_helpers import copy_of, definitions

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def test_first_ticks_after_a_build_launch_nothing_until_a_file_changes(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    instance = demo_build[2]  # the instance the build ran in, as `make run` then `dagster dev`
    resources = definitions(data).resources

    def tick(sensor, resources=resources):
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            return sensor(context)

    cells = tick(survey_value_sensor)
    assert isinstance(cells, dg.SkipReason) and "redan beräknade" in cells.skip_message
    registers = tick(register_folder_sensor)
    assert isinstance(registers, dg.SkipReason) and "redan inlästa" in registers.skip_message

    changed = sorted((data / "registers").glob("stod*"))[0]
    time.sleep(0.01)
    os.utime(changed)  # changed now, after the build read it
    settings = resources["register_settings"]
    assert isinstance(tick(register_folder_sensor, {
        **resources, "register_settings": type(settings)(**{**settings.model_dump(), "settle_seconds": 0})}),
        dg.RunRequest)
