"""The real __main__.py under Pulumi mocks, for both example stacks: what it registers."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.models import EntryKind
from endpoint_firewall.planning.selection import select
from endpoint_firewall.preview.mock_runner import RecordingMocks, run_program

RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
IP_GROUP = "azure-native:network:IpGroup"
AZ_POLICY = "azure-native:network:FirewallPolicy"
AWS_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
AWS_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"


def of_type(resources, typ):
    return [r for r in resources if r["type"] == typ]


def all_text(resources, typ):
    return json.dumps([r["inputs"] for r in of_type(resources, typ)])


@pytest.fixture(scope="module")
def dev():
    return run_program(ROOT, "dev")


@pytest.fixture(scope="module")
def prod():
    return run_program(ROOT, "prod")


def test_dev_registers_both_components_and_a_group_per_service_area(dev):
    types = [r["type"] for r in dev]
    assert "endpoint-firewall:azure:FirewallRules" in types
    assert "endpoint-firewall:aws:NetworkFirewallRules" in types
    groups = of_type(dev, RCG)
    names = {g["inputs"]["ruleCollectionGroupName"] for g in groups}
    selection = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").selection.to_selection()
    areas = {e.service_area for e in select(load_catalogue(), selection) if e.kind is not EntryKind.REFERENCE}
    assert {"intune-core", "win32-cdn", "delivery-optimization", "wns", "apple", "android", "remote-help"} <= areas
    assert {f"epfw-dev-{a}" for a in areas} <= names
    priorities = [g["inputs"]["priority"] for g in groups]
    assert len(set(priorities)) == len(priorities)
    assert {g["inputs"]["firewallPolicyName"] for g in groups} == {"fwpol-egress-dev"}
    assert {g["inputs"]["resourceGroupName"] for g in groups} == {"rg-egress-dev"}


def test_dev_creates_its_policy_with_dns_proxy(dev):
    [policy] = of_type(dev, AZ_POLICY)
    assert policy["inputs"]["dnsSettings"]["enableProxy"] is True
    assert policy["inputs"]["firewallPolicyName"] == "fwpol-egress-dev"


def test_dev_allows_every_region_and_peer_to_peer_to_the_source_range(dev):
    azure = all_text(dev, RCG) + all_text(dev, IP_GROUP)
    for family in ("a", "b", "c"):  # North America, Europe, Asia Pacific
        assert f"imeswd{family}-afd-primary.manage.microsoft.com" in azure
    assert '"7680"' in azure and "10.10.0.0/16" in azure
    aws = all_text(dev, AWS_GROUP)
    assert "imeswda-afd-primary.manage.microsoft.com" in aws and "imeswdc-afd-hotfix.manage.microsoft.com" in aws
    assert "amsud0101lmsas.blob.core.windows.net" in aws  # the scale-unit family the page places nowhere
    assert "7680" in aws
    assert "gcc.remotehelp.microsoft.com" not in azure + aws  # us-gov: only where a stack names it


def test_dev_aws_groups_set_home_net_and_default_action_order(dev):
    groups = of_type(dev, AWS_GROUP)
    assert groups
    for g in groups:
        ip_sets = {s["key"]: s["ipSet"]["definitions"] for s in g["inputs"]["ruleGroup"]["ruleVariables"]["ipSets"]}
        assert ip_sets["HOME_NET"] == ["10.10.0.0/16"]
        assert g["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] == "DEFAULT_ACTION_ORDER"
        assert g["inputs"]["type"] == "STATEFUL" and g["inputs"]["capacity"] >= 100
    [policy] = of_type(dev, AWS_POLICY)
    assert policy["inputs"]["name"] == "epfw-dev-egress"
    assert len(policy["inputs"]["firewallPolicy"]["statefulRuleGroupReferences"]) == len(groups)


def test_prod_is_the_subset_it_names(prod):
    assert not of_type(prod, AZ_POLICY)  # an existing policy
    names = {g["inputs"]["ruleCollectionGroupName"] for g in of_type(prod, RCG)}
    assert {
        n.removeprefix("epfw-prod-").rsplit("-", 1)[0]
        if n[-1].isdigit() and n[-2] == "-"
        else n.removeprefix("epfw-prod-")
        for n in names
    } == set(load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml").selection.service_areas)
    azure = all_text(prod, RCG) + all_text(prod, IP_GROUP)
    assert "imeswda-afd-primary.manage.microsoft.com" in azure and "intunemaape1.eus.attest.azure.net" in azure
    assert "imeswdb-afd-primary" not in azure and "imeswdc-afd-primary" not in azure
    assert "intunemaape7.neu" not in azure and "amsud0101lmsas" not in azure
    assert "7680" not in azure and "mtalk.google.com" not in azure and "usgov" not in azure
    for g in of_type(prod, AWS_GROUP):
        assert g["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] == "STRICT_ORDER"
        assert "imeswdb-afd" not in json.dumps(g["inputs"])


def test_bad_config_fails_before_any_resource_is_registered(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(
        "config:\n  endpoint-firewall:sourceRanges: [10.0.0.0/16]\n  endpoint-firewall:aws:\n    ruleOrdr: STRICT_ORDER\n"
    )
    mocks = RecordingMocks()
    with pytest.raises(CatalogueError) as err:
        run_program(tmp_path, "bad", mocks=mocks)
    assert [p.field for p in err.value.problems] == ["endpoint-firewall:aws.ruleOrdr"]
    assert mocks.resources == []


def test_classic_target_without_the_firewall_definition_fails_naming_the_key(tmp_path):
    (tmp_path / "stacks").mkdir()
    for f in ("__main__.py", "Pulumi.yaml"):
        (tmp_path / f).write_text((ROOT / f).read_text())
    (tmp_path / "stacks" / "Pulumi.c.yaml").write_text(
        "config:\n  endpoint-firewall:sourceRanges: [10.0.0.0/16]\n  endpoint-firewall:azure:\n"
        "    target: classic\n    resourceGroupName: rg\n    firewallName: fw\n"
    )
    mocks = RecordingMocks()
    with pytest.raises(CatalogueError) as err:
        run_program(tmp_path, "c", mocks=mocks)
    assert [p.field for p in err.value.problems] == ["endpoint-firewall:azure.firewallArgs"]
    assert mocks.resources == []
