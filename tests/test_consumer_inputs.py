"""A consumer stack composes the components with other resources' Outputs, under mocks, as ``pulumi up`` runs it
(preview=False) and as ``pulumi preview`` does (preview=True, where the resource group's name is not known yet).

The names and ids of what the rules attach to (resource group, policy, firewall, the IP Groups' region) are Inputs
passed through to the children; the catalogue, selection and ranges stay plain. Tags reach every resource that
takes them, from the component argument and from the stack setting.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from conftest import ROOT

from endpoint_firewall.components.azure_firewall import COMPONENT_TYPE, AzureFirewallRules, AzureFirewallRulesArgs
from endpoint_firewall.components.resource_types import (
    AWS_FIREWALL_POLICY,
    AWS_RULE_GROUP,
    AZURE_FIREWALL,
    AZURE_GROUP,
    AZURE_IP_GROUP,
    AZURE_POLICY,
)
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.preview.mock_runner import UNKNOWN, echo_inputs

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
GENERATED = "lob-rg3f9a1c2e"  # the name azure-native's autonaming would give ResourceGroup("lob-rg")
TAGS = {"team": "lob", "cost-centre": "cc-42"}


def answer_for(preview: bool):
    """Mocks that give the consumer's resource group a generated name once created; in a preview the name is not
    known yet (left out of the outputs: the SDK makes it unknown), as for any output known only after a create."""

    def answer(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.typ == RESOURCE_GROUP:
            outputs = dict(args.inputs)
            if not preview:
                outputs["name"] = GENERATED
            return f"/subscriptions/s/resourceGroups/{GENERATED}", outputs
        return echo_inputs(args)

    return answer


def shipped_plan():
    return build_plan(load_catalogue(), Selection(), ["10.50.0.0/16"], ["10.50.0.0/16"])


def azure_children(mocks) -> list[dict[str, Any]]:
    return [r for r in mocks.resources if r["type"].startswith("azure-native:network:")]


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def consumer(request, pulumi_run):
    """A consumer program: its own resource group, the rules on a policy created there, named by Outputs."""
    import pulumi_azure_native.resources as resources

    def program():
        rg = resources.ResourceGroup("lob-rg", location="northeurope")
        AzureFirewallRules(
            "lob",
            AzureFirewallRulesArgs(
                plan=shipped_plan(),
                config=AzureConfig.model_validate(
                    # addressRules tcp: ID 163's ranges as network rules, so the plan has IP Groups to place
                    {
                        "policyName": "unused",
                        "createPolicy": {"location": "northeurope"},
                        "dnsProxy": True,
                        "addressRules": "tcp",
                    }
                ),
                resource_group_name=rg.name,
                policy_name=pulumi.Output.from_input("fwpol-lob"),  # an Output overriding the config's name
                location=rg.location,
                tags=TAGS,
            ),
        )

    mocks = pulumi_run(program, answer_for(request.param), project="consumer", stack="dev", preview=request.param)
    return request.param, mocks


def test_outputs_are_passed_through_to_every_child(consumer):
    preview, mocks = consumer
    children = azure_children(mocks)
    kinds = {r["type"] for r in children}
    assert kinds == {AZURE_POLICY, AZURE_IP_GROUP, AZURE_GROUP}
    expected = UNKNOWN if preview else GENERATED
    assert {r["inputs"]["resourceGroupName"] for r in children} == {expected}
    assert {r["inputs"]["firewallPolicyName"] for r in children if r["type"] != AZURE_IP_GROUP} == {"fwpol-lob"}
    assert {r["inputs"]["location"] for r in children if r["type"] == AZURE_IP_GROUP} == {"northeurope"}


def test_each_child_depends_on_the_resource_group_it_is_placed_in(consumer):
    _, mocks = consumer
    [rg] = [r for r in mocks.resources if r["type"] == RESOURCE_GROUP]
    assert all(rg["urn"] in r["dependencies"] for r in azure_children(mocks))


def _without_ip_group_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ip_group_ids(v) for k, v in value.items() if not k.endswith("IpGroups")}
    if isinstance(value, list):
        return [_without_ip_group_ids(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def test_the_rules_are_the_render_whether_the_names_are_known_or_not(consumer):
    """The same plan registers the rendered rules, known names or not (IP Group ids aside: those are the IP Groups'
    id outputs)."""
    from endpoint_firewall.renderers.azure.render import render_azure

    _, mocks = consumer
    config = AzureConfig.model_validate(
        {
            "resourceGroupName": "x",
            "policyName": "p",
            "createPolicy": {"location": "northeurope"},
            "dnsProxy": True,
            "addressRules": "tcp",
        }
    )
    render = render_azure(shipped_plan(), config)
    recorded = {
        r["inputs"]["ruleCollectionGroupName"]: _without_ip_group_ids(r["inputs"]["ruleCollections"])
        for r in azure_children(mocks)
        if r["type"] == AZURE_GROUP
    }
    assert recorded == {g.name: _without_ip_group_ids(g.body["properties"]["ruleCollections"]) for g in render.groups}
    [component] = [r for r in mocks.resources if r["type"] == COMPONENT_TYPE]
    assert all(r["parent"] == component["urn"] for r in azure_children(mocks))


def test_tags_go_on_every_resource_that_takes_them(consumer):
    _, mocks = consumer
    for record in azure_children(mocks):
        if record["type"] == AZURE_GROUP:
            assert "tags" not in record["inputs"]  # a rule collection group is a sub-resource: no tags
        else:
            assert record["inputs"]["tags"] == TAGS, record["name"]


def test_a_missing_name_fails_before_anything_is_registered(pulumi_run):
    def program():
        AzureFirewallRules(
            "lob", AzureFirewallRulesArgs(plan=shipped_plan(), config=AzureConfig.model_validate({"policyName": "p"}))
        )

    with pytest.raises(Exception, match="resourceGroupName: missing required key"):
        pulumi_run(program)


VNET = "/subscriptions/0/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/hub"
CONSTRUCT_CATALOGUE = (ROOT / "examples" / "consumer" / "catalogue.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_the_cross_language_components_take_the_same_inputs(pulumi_run, preview):
    """``AzureEgressRules``/``AwsEgressRules`` constructed as the engine does (camelCase inputs), the names and tags
    as Outputs; the classic target's IP Groups are placed in ``firewallArgs.location`` (no ``azure.location``)."""
    import pulumi_azure_native.resources as resources
    from pulumi.provider.experimental.component import ComponentProvider

    from endpoint_firewall.components import provider

    component_provider = ComponentProvider(provider.COMPONENTS, provider.PACKAGE)

    def program():
        rg = resources.ResourceGroup("app-rg", location="westeurope")
        tags = pulumi.Output.from_input(TAGS)
        component_provider.construct(
            "app-policy",
            "endpoint-firewall:index:AzureEgressRules",
            {
                "sourceRanges": ["10.60.0.0/16"],
                "azure": {
                    "namePrefix": "app",
                    "dnsProxy": True,
                    "createPolicy": {"location": "westeurope"},
                    "addressRules": "tcp",  # ID 163's ranges in IP Groups
                    "dns": {"virtualNetworkIds": [VNET]},  # the DNS security policy, in the same resource group
                },
                "resourceGroupName": rg.name,
                "policyName": "fwpol-app",
                "location": rg.location,
                "tags": tags,
            },
            None,
        )
        component_provider.construct(
            "app-classic",
            "endpoint-firewall:index:AzureEgressRules",
            {
                "sourceRanges": ["10.60.0.0/16"],
                "azure": {"target": "classic", "namePrefix": "cl", "dnsProxy": True, "addressRules": "tcp"},
                "resourceGroupName": rg.name,
                "firewallName": "fw-app",
                "firewallArgs": {"location": "swedencentral", "sku": {"name": "AZFW_VNet", "tier": "Standard"}},
            },
            None,
        )
        component_provider.construct(
            "app-aws",
            "endpoint-firewall:index:AwsEgressRules",
            {
                "sourceRanges": ["10.60.0.0/16"],
                "catalogueYaml": [CONSTRUCT_CATALOGUE],
                "aws": {"namePrefix": "app", "firewallPolicy": {"name": "app-egress"}},
                "tags": tags,
            },
            None,
        )

    mocks = pulumi_run(program, answer_for(preview), project="consumer", stack="dev", preview=preview)
    dns_side = [r for r in mocks.resources if r["type"].startswith("azure-native:dnsresolver:")]
    assert dns_side and {r["inputs"]["resourceGroupName"] for r in dns_side} == {UNKNOWN if preview else GENERATED}
    assert {r["inputs"]["location"] for r in dns_side} == {"westeurope"} and all(
        r["inputs"]["tags"] == TAGS for r in dns_side
    )
    policy_side = [r for r in azure_children(mocks) if r["name"].startswith("app-policy")]
    classic_side = [r for r in azure_children(mocks) if r["name"].startswith("app-classic")]
    expected = UNKNOWN if preview else GENERATED
    assert policy_side and {r["inputs"]["resourceGroupName"] for r in policy_side} == {expected}
    assert {r["inputs"]["firewallPolicyName"] for r in policy_side if r["type"] != AZURE_IP_GROUP} == {"fwpol-app"}
    assert all(r["inputs"]["tags"] == TAGS for r in policy_side if r["type"] != AZURE_GROUP)
    [firewall] = [r for r in classic_side if r["type"] == AZURE_FIREWALL]
    assert firewall["inputs"]["azureFirewallName"] == "fw-app" and firewall["inputs"]["location"] == "swedencentral"
    classic_ip_groups = [r for r in classic_side if r["type"] == AZURE_IP_GROUP]
    assert classic_ip_groups and {r["inputs"]["location"] for r in classic_ip_groups} == {"swedencentral"}
    aws = [r for r in mocks.resources if r["type"] in (AWS_RULE_GROUP, AWS_FIREWALL_POLICY)]
    assert aws and all(r["inputs"]["tags"] == TAGS for r in aws)


def test_a_plan_deciding_input_must_still_be_plain(pulumi_run):
    from endpoint_firewall.components.provider import AwsEgressRules

    def program():
        AwsEgressRules(
            "x",
            {"source_ranges": pulumi.Output.from_input(["10.0.0.0/16"]), "aws": {}},
        )

    with pytest.raises(Exception, match="source_ranges must be plain values known at construction"):
        pulumi_run(program)


def test_stack_tags_reach_both_clouds(tmp_path):
    """``endpoint-firewall:tags`` in a stack file: on the Azure policy and IP Groups, the AWS groups and policy."""
    import shutil

    from endpoint_firewall.preview.mock_runner import run_program

    (tmp_path / "stacks").mkdir()
    for f in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / f, tmp_path / f)
    import yaml

    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    stack["config"]["endpoint-firewall:tags"] = {"team": "net", "env": "dev"}
    stack["config"]["endpoint-firewall:azure"]["addressRules"] = "tcp"  # ID 163's ranges in IP Groups
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(yaml.safe_dump(stack), encoding="utf-8")
    records = run_program(tmp_path, "t")
    dns = {
        "azure-native:dnsresolver:DnsResolverPolicy",
        "azure-native:dnsresolver:DnsResolverDomainList",
        "azure-native:dnsresolver:DnsSecurityRule",
        "azure-native:dnsresolver:DnsResolverPolicyVirtualNetworkLink",
        "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList",
        "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup",
        "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation",
    }
    kinds = {AZURE_POLICY, AZURE_IP_GROUP, AWS_RULE_GROUP, AWS_FIREWALL_POLICY} | dns
    taggable = [r for r in records if r["type"] in kinds]
    assert {r["type"] for r in taggable} == kinds  # the dev stack deploys the DNS layers too
    assert all(r["inputs"]["tags"] == {"team": "net", "env": "dev"} for r in taggable)
    untaggable = {"aws:route53/resolverFirewallRule:ResolverFirewallRule", AZURE_GROUP}
    assert all("tags" not in r["inputs"] for r in records if r["type"] in untaggable)
    # the shipped stacks set none: their resources are registered without tags, as before
    assert all("tags" not in r["inputs"] for r in run_program(ROOT, "dev") if r["custom"])
