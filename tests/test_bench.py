"""The benchmark's own logic (bench/run.py): what a timed row records."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_a_runs_results_row_leaves_out_the_command_as_run(bench):
    run = bench.Run(
        "validate",
        "native 1k",
        1.0,
        50.0,
        0,
        ["epfw", "validate", "WORK/c.yaml"],
        floor_s=0.5,
        command=["/tmp/venv/bin/epfw", "validate", "/tmp/x/c.yaml"],
    )
    row = run.to_json()
    assert "command" not in row and row["argv"] == ["epfw", "validate", "WORK/c.yaml"] and row["x_floor"] == 2.0
