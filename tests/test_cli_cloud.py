"""``epfw render --cloud`` and ``epfw preview --cloud``: one cloud at a time, and the summary says which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main
from endpoint_firewall.components.resource_types import cloud_of
from endpoint_firewall.program.render import render_stack


def _files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("cloud", "other"), [("aws", "azure"), ("azure", "aws")])
def test_render_one_cloud_writes_only_its_files_and_the_summary_names_it(tmp_path, cloud, other):
    out = tmp_path / cloud
    assert (
        main(["render", "--project", str(ROOT), "--stack", "dev", "--cloud", cloud, "--out", str(out), "--quiet"]) == 0
    )
    files = _files(out)
    assert any(k.startswith(f"{cloud}/") for k in files) and not any(k.startswith(f"{other}/") for k in files)
    summary = json.loads(files["summary.json"])
    assert summary["clouds"] == [cloud] and summary[cloud] and summary[other] is None
    both = render_stack("dev", ROOT).files()
    assert {k: v for k, v in both.items() if k.startswith(f"{cloud}/")} == {
        k: v for k, v in files.items() if k.startswith(f"{cloud}/")
    }  # the same files as a render of both
    assert json.loads(both["summary.json"])["clouds"] == ["azure", "aws"]


def test_render_of_a_cloud_the_stack_does_not_configure_fails_in_one_line(tmp_path, capsys):
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "stacks" / "Pulumi.awsonly.yaml").write_text(
        "config:\n  endpoint-firewall:sourceRanges: [10.10.0.0/16]\n  endpoint-firewall:aws:\n    namePrefix: x\n",
        encoding="utf-8",
    )
    code = main(
        ["render", "--project", str(project), "--stack", "awsonly", "--cloud", "azure", "--out", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert code == 1 and "stack awsonly has no enabled azure configuration" in err and not (tmp_path / "out").exists()


def test_preview_one_cloud_lists_only_its_resources(capsys):
    assert main(["preview", "--project", str(ROOT), "--stack", "dev", "--cloud", "aws", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clouds"] == ["aws"]
    clouds = {cloud_of(r["type"]) for r in data["resources"]}
    assert "aws" in clouds and "azure" not in clouds
    assert cloud_of("azure-native:network:IpGroup") == "azure" and cloud_of("pulumi:pulumi:Stack") is None
