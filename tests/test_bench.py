"""The benchmark's own logic (bench/run.py): its list of known hot spots stays true to the code."""

from __future__ import annotations

import importlib.util
import re
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


def test_each_advice_names_a_function_that_exists(bench):
    assert bench.ADVICE
    for advice in bench.ADVICE:
        source = (ROOT / "endpoint_firewall" / advice.module).read_text(encoding="utf-8")
        assert re.search(rf"^def {advice.function}\(", source, re.M), (advice.module, advice.function)


def test_advice_fires_on_its_symptom_only(bench):
    empty = {"self": [], "inclusive_repo": [], "inclusive_all": []}
    assert [a.fix for a in bench.ADVICE if a.symptom(empty)] == []
    yaml_bound = {**empty, "self": [{"function": "yaml/scanner.py:70 (scan_plain)", "share": 0.4, "seconds": 1.0}]}
    [fired] = [a for a in bench.ADVICE if a.symptom(yaml_bound)]
    assert fired.module == "endpoints/yaml_lines.py" and "libyaml" in fired.fix


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
