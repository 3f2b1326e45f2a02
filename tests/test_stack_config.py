"""Stack configuration: the shipped stacks load; bad or missing keys are refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main
from endpoint_firewall.config.aws_config import FqdnMode, RuleOrder
from endpoint_firewall.config.stack_config import ConfigError, load_stack_file, parse
from endpoint_firewall.program.pulumi_config import namespace_values


def test_shipped_stacks_load():
    dev = load_stack_file(ROOT / "stacks/Pulumi.dev.yaml")
    assert dev.source_ranges == ("10.10.0.0/16",) and dev.peer_ranges == ("10.10.0.0/16",)
    assert dev.azure.dns_proxy and dev.azure.create_policy is not None
    assert dev.selection.service_areas is None and dev.selection.regions is None
    prod = load_stack_file(ROOT / "stacks/Pulumi.prod.yaml")
    assert prod.aws.rule_order is RuleOrder.STRICT_ORDER and prod.aws.fqdn_mode is FqdnMode.EXACT
    assert prod.selection.regions == ("north-america",)


def write_stack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: endpoint-firewall\nruntime: python\nstackConfigDir: stacks\n")
    path = tmp_path / "stacks" / "Pulumi.t.yaml"
    path.write_text(body)
    return path


GOOD = """config:
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:aws:
    namePrefix: t
"""


@pytest.mark.parametrize(
    "body, line, key, message",
    [
        (GOOD.replace("namePrefix: t", "namePrefx: t"), 4, "endpoint-firewall:aws.namePrefx", "unknown key"),
        (GOOD + "  endpoint-firewall:sourceRange: [10.0.0.0/8]\n", 5, "endpoint-firewall:sourceRange", "unknown key"),
        (
            GOOD.replace("  endpoint-firewall:sourceRanges: [10.0.0.0/16]\n", ""),
            1,
            "endpoint-firewall:sourceRanges",
            "missing required key",
        ),
        (GOOD.replace("10.0.0.0/16", "10.0.0.0/33"), 2, "endpoint-firewall:sourceRanges", "prefix length /33"),
        (GOOD.replace("10.0.0.0/16", "0.0.0.0/0"), 2, "endpoint-firewall:sourceRanges", "every address"),
        (GOOD + "    ruleOrder: STRICT\n", 5, "endpoint-firewall:aws.ruleOrder", "DEFAULT_ACTION_ORDER"),
        (GOOD + "  endpoint-firewall:azure:\n    resourceGroupName: rg\n", 5, "endpoint-firewall:azure", "policyName"),
        (
            GOOD + "  endpoint-firewall:azure:\n    policyName: p\n",
            5,
            "endpoint-firewall:azure.resourceGroupName",
            "missing required key",
        ),
        (GOOD + "  endpoint-firewall:tags: {'aws:team': net}\n", 5, "endpoint-firewall:tags", "reserved by AWS"),
        (GOOD + "  endpoint-firewall:tags: {a/b: net}\n", 5, "endpoint-firewall:tags", "Azure refuses /"),
        (GOOD + "  endpoint-firewall:tags: {team: " + "x" * 257 + "}\n", 5, "endpoint-firewall:tags", "at most 256"),
        # no firewallPolicy: the policy is outside the stack, and AWS refuses to delete a group it still uses
        (GOOD + "    onDelete: {groups: delete}\n", 5, "endpoint-firewall:aws.onDelete.groups", "half-applied"),
        (GOOD + "    onDelete: {groups: keep}\n", 5, "endpoint-firewall:aws.onDelete.groups", "'retain'"),
    ],
)
def test_bad_stack_config_is_refused_with_file_line_and_key(tmp_path, capsys, body, line, key, message):
    path = write_stack(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, key)
    assert message in problem.message
    # The command line says the same, exits 1 and writes nothing.
    out = tmp_path / "out"
    assert main(["render", "--project", str(tmp_path), "--stack", "t", "--out", str(out)]) == 1
    assert f"{path}:{line}: {key}: " in capsys.readouterr().err
    assert not out.exists()


def test_unknown_service_area_in_the_selection_is_refused_before_rendering(tmp_path, capsys):
    write_stack(tmp_path, GOOD + "  endpoint-firewall:selection:\n    serviceAreas: [intune-cor]\n")
    assert main(["render", "--project", str(tmp_path), "--stack", "t", "--out", str(tmp_path / "o")]) == 1
    assert "unknown service area 'intune-cor'" in capsys.readouterr().err


def test_pulumi_config_is_read_and_decoded(monkeypatch):
    """Through pulumi.Config (public): our namespace's keys, structured values decoded, other namespaces left out."""
    import pulumi

    pulumi.runtime.set_all_config(
        {
            "endpoint-firewall:sourceRanges": '["10.1.0.0/16"]',
            "endpoint-firewall:aws": '{"namePrefix": "x", "ruleOrderr": "STRICT_ORDER"}',
            "aws:region": "eu-west-1",
        }
    )
    values = namespace_values()
    assert values == {"sourceRanges": ["10.1.0.0/16"], "aws": {"namePrefix": "x", "ruleOrderr": "STRICT_ORDER"}}
    with pytest.raises(ConfigError) as err:
        parse(values, "stack t config")
    assert [p.field for p in err.value.problems] == ["endpoint-firewall:aws.ruleOrderr"]
    pulumi.runtime.set_all_config({})


def test_enabled_cloud_is_a_cloud_given_and_not_disabled():
    aws = {"namePrefix": "t"}
    azure = {"resourceGroupName": "rg", "policyName": "pol"}
    both = parse({"sourceRanges": ["10.0.0.0/16"], "aws": aws, "azure": {**azure, "enabled": False}}, "f")
    assert both.enabled_cloud("aws") is both.aws and both.enabled_cloud("azure") is None
    only_azure = parse({"sourceRanges": ["10.0.0.0/16"], "azure": azure}, "f")
    assert only_azure.enabled_cloud("azure") is only_azure.azure and only_azure.enabled_cloud("aws") is None
    with pytest.raises(ConfigError, match="at least one enabled cloud"):
        parse({"sourceRanges": ["10.0.0.0/16"], "aws": {**aws, "enabled": False}}, "f")


AWS_NO_POLICY = """config:
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:aws:
    namePrefix: t
    onDelete:
      policy: retain
"""
AZURE_EXISTING_POLICY = """config:
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:azure:
    resourceGroupName: rg
    policyName: pol
    onDelete:
      policy: delete
"""


@pytest.mark.parametrize(
    "body, key, fix",
    [
        (AWS_NO_POLICY, "aws", "set firewallPolicy or remove it"),
        (AZURE_EXISTING_POLICY, "azure", "set createPolicy or remove it"),
    ],
)
def test_on_delete_policy_without_a_policy_in_the_stack_is_refused_at_its_line(tmp_path, body, key, fix):
    path = write_stack(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    [problem] = err.value.problems
    line = body.splitlines().index(next(row for row in body.splitlines() if "policy:" in row)) + 1
    assert (problem.line, problem.field) == (line, f"endpoint-firewall:{key}.onDelete.policy"), problem
    assert problem.message.startswith("onDelete.policy has no policy to act on") and fix in problem.message


@pytest.mark.parametrize(
    "values",
    [
        {"aws": {"firewallPolicy": {"name": "p"}, "onDelete": {"policy": "retain"}}},
        {"azure": {"resourceGroupName": "rg", "policyName": "p", "createPolicy": {"location": "westeurope"},
                   "onDelete": {"policy": "delete"}}},
        {"azure": {"resourceGroupName": "rg", "target": "classic", "firewallName": "fw",
                   "onDelete": {"policy": "protect"}}},  # the AzureFirewall of the classic target
        {"aws": {"namePrefix": "t"}, "azure": {"resourceGroupName": "rg", "policyName": "p"}},  # not given: defaults
    ],
)  # fmt: skip
def test_on_delete_policy_is_taken_where_the_stack_has_a_policy_and_defaults_where_it_has_none(values):
    config = parse({"sourceRanges": ["10.0.0.0/16"], **values}, "f")
    for cloud, settings in values.items():
        given = settings.get("onDelete", {}).get("policy")
        on_delete = getattr(config, cloud).on_delete
        assert on_delete.policy.value == (given or ("protect" if cloud == "aws" else "retain"))


def test_on_delete_defaults_follow_who_owns_the_policy():
    """Azure: the created policy is retained, groups are deleted on the stack's own policy and protected on another;
    AWS: groups are deleted when the stack's own (protected) policy moves first, retained when the policy is outside
    the stack or retained itself."""
    dev, prod = (load_stack_file(ROOT / f"stacks/Pulumi.{s}.yaml") for s in ("dev", "prod"))
    assert dev.azure and prod.azure and dev.aws and prod.aws
    assert (dev.azure.on_delete.policy.value, dev.azure.groups_on_delete.value) == ("retain", "delete")
    assert prod.azure.groups_on_delete.value == "protect"
    assert (dev.aws.on_delete.policy.value, dev.aws.groups_on_delete.value) == ("protect", "delete")
    assert prod.aws.groups_on_delete.value == "retain"
    retained = parse(
        {"sourceRanges": ["10.0.0.0/16"], "aws": {"firewallPolicy": {"name": "p"}, "onDelete": {"policy": "retain"}}},
        "f",
    )
    assert retained.aws and retained.aws.groups_on_delete.value == "retain"
    with pytest.raises(ConfigError, match="onDelete.groups: delete cannot work here"):
        parse(
            {
                "sourceRanges": ["10.0.0.0/16"],
                "aws": {"firewallPolicy": {"name": "p"}, "onDelete": {"policy": "retain", "groups": "delete"}},
            },
            "f",
        )
    # a program of its own that holds the policy (and references the groups' ARNs) may choose delete for the component
    from endpoint_firewall.config.aws_config import AwsConfig

    assert AwsConfig.model_validate({"onDelete": {"groups": "delete"}}).groups_on_delete.value == "delete"
    chosen = parse(
        {
            "sourceRanges": ["10.0.0.0/16"],
            "azure": {"resourceGroupName": "rg", "policyName": "p", "onDelete": {"groups": "retain"}},
        },
        "f",
    )
    assert chosen.azure and chosen.azure.groups_on_delete.value == "retain"
