"""docs/logs.md stays true: its worked example is the command's output on the week of tests/logs_week.py, and the
one-line change it shows turns every not-selected destination of that week into a selected one."""

from __future__ import annotations

import json
import re
import shutil

from conftest import ROOT
from logs_week import write_week

from endpoint_firewall.cli.main import main

DOC = ROOT / "docs" / "logs.md"


def _example() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- logs-example:.*?-->\n```text\n(.*?)```\n<!-- logs-example-end -->", text, re.S)
    assert block, "the worked example's output block is missing"
    return block.group(1).splitlines()


def _diff() -> tuple[str, str]:
    [diff] = re.findall(r"```diff\n-(.*?)\n\+(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    return diff


def test_the_worked_example_is_the_commands_output(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    week = write_week(tmp_path / "prod-week.json")
    capsys.readouterr()
    code = main(["logs", "explain", "--project", str(ROOT), "--stack", "prod", "--cloud", "azure", str(week)])
    out = capsys.readouterr().out
    assert code == 1
    assert [line.rstrip() for line in out.splitlines()] == _example()


def test_the_one_line_change_selects_every_not_selected_destination(capsys, tmp_path):
    before, after = _diff()
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    stack = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    assert stack.count(before) == 1
    (project / "stacks" / "Pulumi.prod.yaml").write_text(stack.replace(before, after), encoding="utf-8")
    week = write_week(tmp_path / "prod-week.json")

    def verdicts(where) -> dict[str, str]:
        capsys.readouterr()
        main(
            [
                "logs",
                "explain",
                "--project",
                str(where),
                "--stack",
                "prod",
                "--cloud",
                "azure",
                str(week),
                "--format",
                "json",
            ]
        )
        return {d["destination"]: d["verdict"] for d in json.loads(capsys.readouterr().out)["denied"]}

    old, new = verdicts(ROOT), verdicts(project)
    not_selected = {d for d, v in old.items() if v == "not-selected"}
    assert not_selected and "not-selected" not in new.values()
    assert all(new[d] == "selected" for d in not_selected)
