"""The catalogue-refresh workflow's own steps, run offline in a throw-away clone: on the shared Intune page and on
the Autopilot requirements page (the committed copy and the 2024 memdocs source under tests/fixtures).

scripts/catalogue-refresh.sh imports the page and writes the pull request body (catalogue diff and every
stack's rule diff); scripts/catalogue-refresh-pr.sh commits, pushes one fixed branch and creates or edits its
pull request (``gh`` is a stand-in here that records its arguments).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from page_dialects import to_memdocs
from shared_sources import INTUNE_PAGE, require_shared

ROOT = Path(__file__).resolve().parents[1]
EPFW = str(Path(sys.executable).parent / "epfw")
WORKFLOW = ROOT / ".github" / "workflows" / "catalogue-refresh.yml"
GIT = ["-c", "user.name=t", "-c", "user.email=t@example.org"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *GIT, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path) -> Path:
    """This worktree as one commit of a fresh repository (the scripts run there, never here)."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    for f in ("endpoint_firewall", "stacks", "scripts"):
        shutil.rmtree(repo / f, ignore_errors=True)
        shutil.copytree(ROOT / f, repo / f, ignore=shutil.ignore_patterns("__pycache__"))
    for f in ("pyproject.toml", "__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / f, repo / f)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base", "--allow-empty")
    return repo


CATALOGUE = "endpoint_firewall/endpoints/catalogue"
AUTOPILOT_PAGE = ROOT / CATALOGUE / "sources" / "autopilot-requirements.md"
OLDER_AUTOPILOT_PAGE = ROOT / "tests" / "fixtures" / "autopilot" / "requirements-2024-11-25.memdocs.md"


def refresh(repo: Path, page: Path, out: Path, *source: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(repo / "scripts" / "catalogue-refresh.sh"), str(page), str(out), *source],
        env=dict(os.environ, EPFW=EPFW),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_shared_page_changes_nothing(clone, tmp_path):
    result = refresh(clone, require_shared(INTUNE_PAGE), tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=false\n"
    assert git(clone, "status", "--porcelain") == ""
    assert not (tmp_path / "out" / "pr-body.md").exists()


def test_the_shared_page_in_the_memdocs_dialect_changes_nothing(clone, tmp_path):
    page = tmp_path / "endpoints.md"
    page.write_text(to_memdocs(require_shared(INTUNE_PAGE).read_text(encoding="utf-8")), encoding="utf-8")
    result = refresh(clone, page, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=false\n"
    assert git(clone, "status", "--porcelain") == ""


def test_a_changed_page_gives_the_catalogue_diff_and_every_stacks_rule_diff(clone, tmp_path):
    page = tmp_path / "endpoints.md"
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    row = "`intunecdnpeasd.manage.microsoft.com` |"
    assert text.count(row) == 1
    page.write_text(
        to_memdocs(text.replace(row, "`intunecdnpeasd.manage.microsoft.com` `aosp2.manage.microsoft.com` |")),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = refresh(clone, page, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=true\n"
    assert git(clone, "status", "--porcelain").split() == [
        "M",
        "endpoint_firewall/endpoints/catalogue/intune.yaml",
        "M",
        "endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md",
    ]
    assert (
        clone / "endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md"
    ).read_bytes() == page.read_bytes()
    assert (out / "files.txt").read_text().split() == [
        "endpoint_firewall/endpoints/catalogue/intune.yaml",
        "endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md",
    ]
    body = (out / "pr-body.md").read_text(encoding="utf-8")
    title = (out / "pr-title.txt").read_text(encoding="utf-8").strip()
    assert title == "Intune endpoints: refresh from Microsoft's page (ms.date 2026-08-21)"
    assert body.startswith(f"## {title}\n")
    assert "wrote endpoint_firewall/endpoints/catalogue/intune.yaml: " in body
    assert "page:" in body and "aosp2.manage.microsoft.com (ID 179) is not in the consolidated list" in body
    diff = body[body.index("### Catalogue diff") :]
    assert "entries: 0 added, 0 removed, 1 changed, " in diff
    assert "~ intune-179\n    destinations:\n      + aosp2.manage.microsoft.com\n" in diff
    stacks = sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (clone / "stacks").glob("Pulumi.*.yaml")
    )
    for stack in stacks:
        assert f"Rule changes of stack {stack} against HEAD" in body
    dev = body[body.index("Rule changes of stack dev") : body.index("Rule changes of stack prod")]
    prod = body[body.index("Rule changes of stack prod") :]
    assert "aosp2.manage.microsoft.com" in dev
    assert "aosp2.manage.microsoft.com" not in prod and "No rule changes." in prod  # prod deploys no android-aosp
    # the refreshed clone passes the byte-for-byte test: its catalogue is the import of its page copy
    again = tmp_path / "again.yaml"
    subprocess.run(
        [
            EPFW,
            "import",
            "intune-page",
            str(clone / "endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md"),
            "--out",
            str(again),
        ],
        check=True,
        capture_output=True,
    )
    assert again.read_bytes() == (clone / "endpoint_firewall/endpoints/catalogue/intune.yaml").read_bytes()


def test_a_new_shared_tenant_wildcard_opens_the_pull_request_and_its_title(clone, tmp_path):
    page = tmp_path / "endpoints.md"
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    row = "`intunecdnpeasd.manage.microsoft.com` |"
    page.write_text(text.replace(row, "`intunecdnpeasd.manage.microsoft.com` `*.queue.core.windows.net` |"))
    out = tmp_path / "out"
    result = refresh(clone, page, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=true\n"
    title = (out / "pr-title.txt").read_text(encoding="utf-8").strip()
    assert title.endswith(" [NEW SHARED-TENANT WILDCARD]")
    lines = (out / "pr-body.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "> [!WARNING]"  # first, before the heading: a reviewer cannot miss it
    assert lines[3].startswith("> - NEW SHARED-TENANT WILDCARD *.queue.core.windows.net (entries intune-179): ")
    assert "https://learn.microsoft.com/azure/storage/common/storage-account-overview" in lines[3]
    assert lines[4] == "" and lines[5].startswith("## Intune endpoints: refresh")
    diff = lines[
        lines.index(
            "### Catalogue diff (`epfw catalogue diff` of `endpoint_firewall/endpoints/catalogue`, HEAD -> this change)"
        ) :
    ]
    assert diff[3].startswith("!! NEW SHARED-TENANT WILDCARD *.queue.core.windows.net")  # first in the diff too
    # the stacks as shipped leave it out: no rule diff names it
    body = "\n".join(lines)
    previews = body[body.index("Rule changes of stack dev") :]
    assert "Rule changes of stack prod" in previews and "queue.core.windows.net" not in previews


def test_the_pull_request_step_pushes_one_branch_and_creates_then_edits_its_pull_request(clone, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(clone, "remote", "set-url", "origin", str(remote))
    bin_dir, log = tmp_path / "bin", tmp_path / "gh.log"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {log}\n'
        'if [ "$1 $2" = "pr view" ]; then [ -f "$GH_STATE" ] && cat "$GH_STATE" && exit 0; exit 1; fi\n'
    )
    (bin_dir / "gh").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GH_STATE=str(tmp_path / "state"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "pr-title.txt").write_text("Intune endpoints: refresh\n")
    (out / "pr-body.md").write_text("body\n")
    (out / "files.txt").write_text(f"{CATALOGUE}/intune.yaml\n{CATALOGUE}/sources/intune-endpoints.md\n")
    script = str(clone / "scripts" / "catalogue-refresh-pr.sh")
    env["CHECKS_BY_HAND"] = "true"
    for round_, state in ((1, None), (2, "OPEN")):
        catalogue = clone / "endpoint_firewall" / "endpoints" / "catalogue" / "intune.yaml"
        catalogue.write_text(catalogue.read_text(encoding="utf-8") + f"# round {round_}\n", encoding="utf-8")
        if state:
            (tmp_path / "state").write_text(state + "\n")
        result = subprocess.run(
            ["bash", script, "catalogue-refresh/intune-page", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    base = git(clone, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert calls[1] == (
        f"pr create --head catalogue-refresh/intune-page --base {base} --title Intune endpoints: "
        f"refresh --body-file {out}/pr-body.md"
    )
    assert (
        calls[3]
        == f"pr edit catalogue-refresh/intune-page --title Intune endpoints: refresh --body-file {out}/pr-body.md"
    )
    pushed = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%s", "catalogue-refresh/intune-page"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert pushed[:2] == ["Intune endpoints: refresh", "Intune endpoints: refresh"]
    body = (out / "pr-body.md").read_text(encoding="utf-8")
    assert body.count("the checks of this pull request must be started by hand") == 1  # said once, on both rounds


def test_without_checks_by_hand_the_body_is_left_as_written(clone, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(clone, "remote", "set-url", "origin", str(remote))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text('#!/usr/bin/env bash\n[ "$1 $2" = "pr view" ] && exit 1; exit 0\n')
    (bin_dir / "gh").chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    (out / "pr-title.txt").write_text("t\n")
    (out / "pr-body.md").write_text("body\n")
    (out / "files.txt").write_text(f"{CATALOGUE}/intune.yaml\n")
    catalogue = clone / "endpoint_firewall" / "endpoints" / "catalogue" / "intune.yaml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CHECKS_BY_HAND"}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    subprocess.run(
        ["bash", str(clone / "scripts" / "catalogue-refresh-pr.sh"), "b", str(out)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (out / "pr-body.md").read_text() == "body\n"


def test_the_workflow_runs_these_scripts_weekly_and_on_demand():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "schedule:" in text and "workflow_dispatch:" in text and "page_url:" in text
    assert "raw.githubusercontent.com/MicrosoftDocs/memdocs/main/intune/fundamentals/endpoints.md" in text
    assert "raw.githubusercontent.com/MicrosoftDocs/memdocs/main/autopilot/requirements.md" in text
    assert "autopilot_page_url:" in text and "PAGE_URL: ${{ inputs[matrix.input] || matrix.url }}" in text
    assert "- source: intune-page" in text and "- source: autopilot-page" in text  # one job, one branch each
    assert "BRANCH: catalogue-refresh/${{ matrix.source }}" in text
    assert (
        'scripts/catalogue-refresh.sh "$RUNNER_TEMP/page.md" "$RUNNER_TEMP/refresh" "$SOURCE" >> "$GITHUB_OUTPUT"'
        in text
    )
    assert "if: steps.refresh.outputs.changed == 'true'" in text
    assert 'scripts/catalogue-refresh-pr.sh "$BRANCH" "$RUNNER_TEMP/refresh"' in text
    # a pull request made with github.token starts no workflow: the refresh token, when set, pushes and opens it
    token = "${{ secrets.CATALOGUE_REFRESH_TOKEN || github.token }}"
    assert f"token: {token}" in text and f"GH_TOKEN: {token}" in text
    assert "CHECKS_BY_HAND: ${{ secrets.CATALOGUE_REFRESH_TOKEN == '' }}" in text


def test_the_committed_autopilot_page_changes_nothing(clone, tmp_path):
    result = refresh(clone, AUTOPILOT_PAGE, tmp_path / "out", "autopilot-page")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=false\n"
    assert git(clone, "status", "--porcelain") == ""


def test_an_unknown_source_is_refused(clone, tmp_path):
    result = refresh(clone, AUTOPILOT_PAGE, tmp_path / "out", "apple-page")
    assert result.returncode == 2 and "unknown SOURCE 'apple-page'" in result.stderr
    assert git(clone, "status", "--porcelain") == ""


def test_a_changed_autopilot_page_gives_its_diff_with_the_sources_and_only_devs_rule_diff(clone, tmp_path):
    """The 2024 memdocs source as the "new" page: its third Deployment Service URL, cs.dds.microsoft.com, comes
    back; the diff of the catalogue folder names the hosts both pages list, dev's rule diff has the host, prod's
    (no autopilot) none."""
    out = tmp_path / "out"
    result = refresh(clone, OLDER_AUTOPILOT_PAGE, out, "autopilot-page")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "changed=true\n"
    assert git(clone, "status", "--porcelain").split() == [
        "M",
        f"{CATALOGUE}/autopilot.yaml",
        "M",
        f"{CATALOGUE}/sources/autopilot-requirements.md",
    ]
    assert (out / "files.txt").read_text().split() == [
        f"{CATALOGUE}/autopilot.yaml",
        f"{CATALOGUE}/sources/autopilot-requirements.md",
    ]
    title = (out / "pr-title.txt").read_text(encoding="utf-8").strip()
    assert title == "Autopilot networking requirements: refresh from Microsoft's page (ms.date 2024-11-25)"
    body = (out / "pr-body.md").read_text(encoding="utf-8")
    assert "`epfw import autopilot-page`" in body and "fixups/autopilot-page.yaml" in body
    assert (
        "page:120: https://cs.dds.microsoft.com is a URL: its host cs.dds.microsoft.com is imported on https 443"
        in body
    )
    diff = body[body.index("### Catalogue diff") : body.index("Rule changes of stack")]
    assert "~ autopilot-deployment-service" in diff and "      + cs.dds.microsoft.com\n" in diff
    assert "destinations now named by more than one source" not in diff  # the same hosts as before
    dev = body[body.index("Rule changes of stack dev") : body.index("Rule changes of stack prod")]
    prod = body[body.index("Rule changes of stack prod") :]
    assert "cs.dds.microsoft.com" in dev
    assert "cs.dds.microsoft.com" not in prod and "No rule changes." in prod
    again = tmp_path / "again.yaml"
    subprocess.run(
        [
            EPFW,
            "import",
            "autopilot-page",
            str(clone / CATALOGUE / "sources/autopilot-requirements.md"),
            "--out",
            str(again),
        ],
        check=True,
        capture_output=True,
    )
    assert again.read_bytes() == (clone / CATALOGUE / "autopilot.yaml").read_bytes()
