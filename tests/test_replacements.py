"""Replacements that never half-apply: the real program under mocks, before and after a change, and the steps Pulumi
takes between the two (``preview/update_steps.py``: Pulumi's documented order, from the recorded dependencies and
lifecycle options; a model, since the Pulumi CLI cannot run here).

AWS, prod (the firewall policy is outside the stack): a replaced group is created, and the old one released
(``retainOnDelete``), never deleted while that policy uses it; the diff names both groups and the two steps.
AWS, dev (its own policy): the replacement is created, the policy moves to it, then the old group is deleted; a
change that replaces the policy itself is refused (``protect``), as the firewall using it is outside the stack.
Azure: groups on a policy the stack does not own are protected (removing a service area is refused), the policy the
stack creates is retained (removing ``createPolicy`` deletes nothing).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import ROOT

from endpoint_firewall.components.resource_types import (
    AWS_FIREWALL_POLICY,
    AWS_RULE_GROUP,
    AZURE_GROUP,
    AZURE_IP_GROUP,
    AZURE_POLICY,
)
from endpoint_firewall.preview.mock_runner import RecordingMocks, echo_inputs, run_program
from endpoint_firewall.preview.resource_diff import diff
from endpoint_firewall.preview.update_steps import (
    CREATE,
    DELETE,
    REFUSE,
    RELEASE,
    REPLACE_FIRST,
    UPDATE,
    Step,
    update_steps,
)


def answer(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
    """The inputs back; an AWS rule group's or policy's ARN from its physical name, as AWS gives it, so that a
    policy referencing a replaced group sees a new ARN."""
    outputs = dict(args.inputs)
    if args.typ in (AWS_RULE_GROUP, AWS_FIREWALL_POLICY):
        outputs["arn"] = f"arn:aws:network-firewall:eu-west-1:123456789012:x/{args.inputs['name']}"
        return outputs["arn"], outputs
    return echo_inputs(args)


def stack(name: str) -> dict:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text(encoding="utf-8"))


def run(tmp_path: Path, config: dict, label: str, mocks: RecordingMocks | None = None) -> list[dict]:
    """The program for a stack file of ``config`` under mocks: what it registers, with options and dependencies."""
    root = tmp_path / label
    (root / "stacks").mkdir(parents=True)
    for f in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / f, root / f)
    (root / "stacks" / "Pulumi.t.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return run_program(root, "t", mocks=mocks or RecordingMocks(answer))


def changed(config: dict, cloud: str, **settings) -> dict:
    out = yaml.safe_load(yaml.safe_dump(config))
    out["config"][f"endpoint-firewall:{cloud}"].update(settings)
    return out


def ops(steps: list[Step], typ: str) -> list[tuple[str, str]]:
    return [(s.op, s.name) for s in steps if s.type == typ]


def of_type(records: list[dict], typ: str) -> list[dict]:
    return [r for r in records if r["type"] == typ]


@pytest.fixture(scope="module")
def prod_aws(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    """prod before and after raising the pinned capacity of its rules group (a deliberate replacement)."""
    tmp = tmp_path_factory.mktemp("prod-aws")
    base = stack("prod")
    return run(tmp, base, "old"), run(tmp, changed(base, "aws", capacity={"rules": 400}), "new")


def test_prod_groups_are_kept_on_delete_and_created_before_the_old_is_released(prod_aws):
    old, new = prod_aws
    assert of_type(new, AWS_FIREWALL_POLICY) == []  # the policy lives outside the stack
    for record in of_type(old, AWS_RULE_GROUP) + of_type(new, AWS_RULE_GROUP):
        assert record["options"] == {"deleteBeforeReplace": False, "retainOnDelete": True}
    steps = update_steps(old, new)
    assert ops(steps, AWS_RULE_GROUP) == [(REPLACE_FIRST, "aws-rules"), (RELEASE, "aws-rules")]
    assert [s for s in steps if s.op in (DELETE, REFUSE)] == []  # nothing the outside policy uses is deleted


def test_prod_replacement_says_which_group_to_swap_in_the_outside_policy(prod_aws):
    old, new = prod_aws
    [change] = [c for c in diff(old, new) if c.type == AWS_RULE_GROUP]
    old_name, new_name = (of_type(r, AWS_RULE_GROUP)[0]["inputs"]["name"] for r in (old, new))
    assert old_name != new_name and change.status == "replaced" and "capacity" in change.replace_reasons
    [note] = change.notes
    assert f"replace {old_name}'s ARN by {new_name}'s" in note
    assert f"delete-rule-group --rule-group-name {old_name} --type STATEFUL" in note
    assert note.index("replace") < note.index("delete-rule-group")  # swap first, then delete


def test_prod_outputs_name_the_groups_the_outside_policy_must_reference(tmp_path):
    mocks = RecordingMocks(answer)
    records = run(tmp_path, stack("prod"), "p", mocks)
    [component] = [r for r in records if r["type"] == "endpoint-firewall:aws:NetworkFirewallRules"]
    outputs = mocks.outputs[component["urn"]]
    arns = [g["inputs"]["name"] for g in of_type(records, AWS_RULE_GROUP)]
    assert [a.rsplit("/", 1)[1] for a in outputs["outsidePolicy"]["ruleGroupArns"]] == arns
    steps = outputs["outsidePolicy"]["onReplace"]
    assert "keeps the old one in AWS (retainOnDelete)" in steps and "delete-rule-group" in steps
    assert outputs["onDelete"] == {"groups": "retain"}  # no policy in the stack
    assert "firewallPolicyArn" not in outputs


@pytest.fixture(scope="module")
def dev_aws(tmp_path_factory) -> dict[str, list[dict]]:
    tmp = tmp_path_factory.mktemp("dev-aws")
    base = stack("dev")
    return {
        "old": run(tmp, base, "old"),
        "capacity": run(tmp, changed(base, "aws", capacityHeadroom=2.0), "capacity"),
        "order": run(tmp, changed(base, "aws", ruleOrder="STRICT_ORDER"), "order"),
        "retained": run(tmp, changed(base, "aws", onDelete={"policy": "retain"}), "retained"),
        "order-retained": run(
            tmp, changed(base, "aws", ruleOrder="STRICT_ORDER", onDelete={"policy": "retain"}), "order-retained"
        ),
    }


def test_dev_policy_moves_to_the_replacements_before_the_old_groups_are_deleted(dev_aws):
    old, new = dev_aws["old"], dev_aws["capacity"]
    [policy] = of_type(new, AWS_FIREWALL_POLICY)
    groups = of_type(new, AWS_RULE_GROUP)
    assert set(policy["dependencies"]) >= {g["urn"] for g in groups}  # it references their ARNs
    assert policy["options"] == {"deleteBeforeReplace": False, "protect": True}
    assert all(g["options"] == {"deleteBeforeReplace": False} for g in groups)
    steps = update_steps(old, new)
    sequence = [(s.op, s.type) for s in steps]
    replaced = [i for i, (op, typ) in enumerate(sequence) if (op, typ) == (REPLACE_FIRST, AWS_RULE_GROUP)]
    moved = sequence.index((UPDATE, AWS_FIREWALL_POLICY))
    deleted = [i for i, (op, typ) in enumerate(sequence) if (op, typ) == (DELETE, AWS_RULE_GROUP)]
    assert replaced and len(deleted) == len(replaced)
    assert max(replaced) < moved < min(deleted)  # create the new groups, move the policy, then delete the old


def test_dev_rule_order_change_is_refused_on_the_protected_policy(dev_aws):
    steps = update_steps(dev_aws["old"], dev_aws["order"])
    assert [(s.op, s.name) for s in steps if s.type == AWS_FIREWALL_POLICY] == [(REFUSE, "aws-policy")]
    [change] = [c for c in diff(dev_aws["old"], dev_aws["order"]) if c.type == AWS_FIREWALL_POLICY]
    assert change.notes and change.notes[0].startswith("protected: pulumi preview and up refuse to replace")


def test_dev_rule_order_change_with_the_policy_retained_deletes_nothing(dev_aws):
    """onDelete.policy: retain keeps the old policy for the firewall to move off, and so the groups it references."""
    old, new = dev_aws["retained"], dev_aws["order-retained"]
    assert all(r["options"]["retainOnDelete"] for r in of_type(old, AWS_RULE_GROUP) + of_type(old, AWS_FIREWALL_POLICY))
    steps = update_steps(old, new)
    assert ops(steps, AWS_FIREWALL_POLICY) == [(REPLACE_FIRST, "aws-policy"), (RELEASE, "aws-policy")]
    groups = ops(steps, AWS_RULE_GROUP)
    assert groups and {op for op, _ in groups} == {REPLACE_FIRST, RELEASE}
    assert [s for s in steps if s.op in (DELETE, REFUSE)] == []


@pytest.fixture(scope="module")
def azure_runs(tmp_path_factory) -> dict[str, list[dict]]:
    tmp = tmp_path_factory.mktemp("azure")
    prod, dev = stack("prod"), stack("dev")
    fewer = yaml.safe_load(yaml.safe_dump(prod))
    areas = fewer["config"]["endpoint-firewall:selection"]["serviceAreas"]
    fewer["config"]["endpoint-firewall:selection"]["serviceAreas"] = [a for a in areas if a != "wns"]
    dev_without_create = changed(dev, "azure", location="westeurope")
    del dev_without_create["config"]["endpoint-firewall:azure"]["createPolicy"]
    return {
        "prod": run(tmp, prod, "prod"),
        "prod-fewer": run(tmp, fewer, "prod-fewer"),
        "dev": run(tmp, dev, "dev"),
        "dev-existing": run(tmp, dev_without_create, "dev-existing"),
        "dev-delete": run(tmp, changed(dev, "azure", onDelete={"policy": "delete"}), "dev-delete"),
    }


def test_azure_removing_a_service_area_from_a_shared_policy_is_refused(azure_runs):
    old, new = azure_runs["prod"], azure_runs["prod-fewer"]
    assert all(g["options"] == {"protect": True} for g in of_type(old, AZURE_GROUP))
    assert all("options" not in r for r in of_type(old, AZURE_IP_GROUP))
    steps = update_steps(old, new)
    assert ops(steps, AZURE_GROUP) == [(REFUSE, "azure-epfw-prod-wns")]
    [change] = [c for c in diff(old, new) if c.status == "removed"]
    assert "refuse to delete epfw-prod-wns" in change.notes[0] and "pulumi state unprotect" in change.notes[0]


def test_azure_removing_create_policy_keeps_the_policy_and_its_groups(azure_runs):
    old, new = azure_runs["dev"], azure_runs["dev-existing"]
    [policy] = of_type(old, AZURE_POLICY)
    assert policy["options"] == {"retainOnDelete": True}
    assert all("options" not in g for g in of_type(old, AZURE_GROUP))  # the stack's own policy: deleted with it
    assert all(g["options"] == {"protect": True} for g in of_type(new, AZURE_GROUP))  # now on a policy it does not own
    steps = update_steps(old, new)
    assert [(s.op, s.type) for s in steps] == [(RELEASE, AZURE_POLICY)]  # no group touched, nothing deleted
    # what the default prevents: with onDelete.policy: delete, the same change deletes the policy (and Azure its
    # groups with it)
    assert [(s.op, s.type) for s in update_steps(azure_runs["dev-delete"], new)] == [(DELETE, AZURE_POLICY)]


@pytest.mark.parametrize(
    "old_options, new_options, expected",
    [
        ({}, {}, [REPLACE_FIRST, DELETE]),
        ({"retainOnDelete": True}, {}, [REPLACE_FIRST, RELEASE]),
        ({"protect": True}, {}, [REFUSE]),
        ({}, {"deleteBeforeReplace": True}, [DELETE, CREATE]),
    ],
)
def test_the_step_model_follows_each_option(old_options, new_options, expected):
    """The model itself, on one replaced resource with each lifecycle option."""

    def record(name: str, options: dict) -> dict:
        return {"type": AWS_RULE_GROUP, "name": "g", "inputs": {"name": name, "capacity": 100}, "options": options}

    steps = update_steps([record("g-aaaaaa", old_options)], [record("g-bbbbbb", new_options)])
    assert [s.op for s in steps] == expected


def test_epfw_preview_base_tells_the_swap_of_a_prod_replacement(tmp_path, capsys):
    """The reviewer's view: epfw preview --base on a commit raising prod's pinned capacity, as the pull-request
    workflow posts it."""
    from conftest import clone_with_change

    from endpoint_firewall.cli.main import main

    def raise_pin(repo: Path) -> None:
        path = repo / "stacks" / "Pulumi.prod.yaml"
        text = path.read_text(encoding="utf-8")
        assert "      rules: 300 " in text
        path.write_text(text.replace("      rules: 300 ", "      rules: 400 "), encoding="utf-8")

    repo = clone_with_change(tmp_path, raise_pin, "raise the rules pin")
    assert main(["preview", "--project", str(repo), "--stack", "prod", "--base", "HEAD~1", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "1 to replace" in out and "**What Pulumi does with what goes**" in out
    [line] = [ln for ln in out.splitlines() if ln.startswith("- AWS rule group `aws-rules`")]
    assert (
        "the firewall policy is outside this stack" in line
        and "delete-rule-group --rule-group-name epfw-prod-rules-" in line
    )
    capsys.readouterr()
    assert main(["preview", "--project", str(repo), "--stack", "prod"]) == 0
    assert "lifecycle: the AWS firewall policy is outside this stack" in capsys.readouterr().out
