"""The Azure component under Pulumi mocks: what it registers, under which parent, in which chain, with which inputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from conftest import ROOT, dev_azure_config

from endpoint_firewall.components.azure_firewall import (
    COMPONENT_TYPE,
    AzureFirewallRules,
    AzureFirewallRulesArgs,
    _args,
    classic_flat,
    snake,
)
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.models import EntryKind, Service
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import AreaPlan, Plan, Rule, RuleKind
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.azure.model import SUBSCRIPTION_PLACEHOLDER, RenderError, ip_group_id
from endpoint_firewall.renderers.azure.render import render_azure

SUB = "00000000-1111-2222-3333-444444444444"
GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
IP_GROUP = "azure-native:network:IpGroup"
POLICY = "azure-native:network:FirewallPolicy"
FIREWALL = "azure-native:network:AzureFirewall"


def plain(value: Any) -> Any:
    """Recorded inputs as plain data; the wire's doubles back to ints where whole."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def with_sub(value: Any) -> Any:
    """A render body with the subscription placeholder filled in as the mocks' ids have it."""
    if isinstance(value, dict):
        return {k: with_sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_sub(v) for v in value]
    return value.replace(SUBSCRIPTION_PLACEHOLDER, SUB) if isinstance(value, str) else value


def answer(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
    """The inputs back, under the id Azure gives the resource in the subscription SUB."""
    rg = args.inputs.get("resourceGroupName", "rg")
    if args.typ == IP_GROUP:  # the id a real IpGroup gets
        return ip_group_id(rg, args.inputs["ipGroupsName"], SUB), dict(args.inputs)
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/mock/{args.name}", dict(args.inputs)


class Run:
    """One program run under fresh mocks (the ``pulumi_run`` fixture: its own event loop); ``fn`` may return an
    Output to await."""

    def __init__(self, pulumi_run, fn) -> None:
        self.values: dict[str, Any] = {}
        self.mocks = pulumi_run(lambda: fn(self), answer, project="proj", stack="dev")
        self.registrations: list[dict[str, Any]] = self.mocks.resources  # in registration order

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.registrations if r["type"] == typ]

    def outputs(self, urn: str) -> dict[str, Any]:
        """What the component at ``urn`` registered as outputs, the wire's doubles back to ints where whole."""
        return plain(self.mocks.outputs[urn])


def dev_config() -> AzureConfig:
    """The demo stack's Azure settings with azure.addressRules tcp: ID 163's addresses are then an IP Group, whose
    real id the component puts into the rules (as shipped, names-only, they are left to Intune's names)."""
    return dev_azure_config().model_copy(update={"address_rules": AddressRules.TCP})


def dev_plan() -> Plan:
    return build_plan(load_catalogue(), Selection(), ["10.10.0.0/16"], ["10.10.0.0/16"])


def component(pulumi_run, args: AzureFirewallRulesArgs) -> Run:
    def program(run: Run):
        c = AzureFirewallRules("azure", args)
        run.values["component"] = c
        return pulumi.Output.all(c.group_names, c.group_ids, c.ip_group_ids, c.rule_count, c.not_expressible).apply(
            lambda v: run.values.update(attributes=v)
        )

    return Run(pulumi_run, program)


@pytest.fixture(scope="module")
def dev_run(pulumi_run) -> Run:
    return component(pulumi_run, AzureFirewallRulesArgs(plan=dev_plan(), config=dev_config()))


def test_the_dev_stack_registers_its_policy_ip_groups_and_one_group_per_rendered_group(dev_run):
    render = render_azure(dev_plan(), dev_config())
    [policy] = dev_run.of_type(POLICY)
    assert plain(policy["inputs"]) == {
        "resourceGroupName": "rg-egress-dev",
        "firewallPolicyName": "fwpol-egress-dev",
        "location": "westeurope",
        "sku": {"tier": "Standard"},
        "dnsSettings": {"enableProxy": True},
    }
    ip_groups = dev_run.of_type(IP_GROUP)
    assert [(a["name"], a["inputs"]["ipGroupsName"], tuple(a["inputs"]["ipAddresses"])) for a in ip_groups] == [
        (f"azure-ipg-{g.name}", g.name, g.addresses) for g in render.ip_groups
    ]
    assert all(
        a["inputs"]["location"] == "westeurope" and a["inputs"]["resourceGroupName"] == "rg-egress-dev"
        for a in ip_groups
    )
    groups = dev_run.of_type(GROUP)
    assert [(a["name"], a["inputs"]["ruleCollectionGroupName"], plain(a["inputs"]["priority"])) for a in groups] == [
        (f"azure-{g.name}", g.name, g.priority) for g in render.groups
    ]
    assert {a["inputs"]["firewallPolicyName"] for a in groups} == {"fwpol-egress-dev"}
    assert dev_run.of_type(FIREWALL) == []


def test_recorded_rule_collections_are_the_rendered_bodies(dev_run):
    render = render_azure(dev_plan(), dev_config())
    recorded = {
        a["inputs"]["ruleCollectionGroupName"]: plain(a["inputs"]["ruleCollections"]) for a in dev_run.of_type(GROUP)
    }
    assert recorded == {g.name: with_sub(g.body["properties"]["ruleCollections"]) for g in render.groups}
    # the IP Group reference is the IpGroup's real id, not the placeholder
    ids = [r for c in recorded["epfw-dev-intune-core"] for r in c["rules"] if "destinationIpGroups" in r]
    assert ids[0]["destinationIpGroups"] == [ip_group_id("rg-egress-dev", render.ip_groups[0].name, SUB)]


def test_every_child_is_parented_by_the_component(dev_run):
    [comp] = dev_run.of_type(COMPONENT_TYPE)
    assert comp["name"] == "azure" and not comp["custom"]
    render = render_azure(dev_plan(), dev_config())
    children = [r for r in dev_run.registrations if r["type"].startswith("azure-native:")]
    assert len(children) == 1 + len(render.ip_groups) + len(render.groups) and len(render.groups) > 7
    assert {r["parent"] for r in children} == {comp["urn"]}


def test_policy_ip_groups_and_groups_form_one_serial_chain(dev_run):
    render = render_azure(dev_plan(), dev_config())
    children = [r for r in dev_run.registrations if r["type"].startswith("azure-native:")]
    assert [r["type"] for r in children] == [POLICY] + [IP_GROUP] * len(render.ip_groups) + [GROUP] * len(render.groups)
    assert children[0]["dependencies"] == []
    for before, after in zip(children, children[1:], strict=False):
        assert before["urn"] in after["dependencies"], (before["name"], after["name"])
    # nothing else orders them: each depends on its predecessor (and, for a group, the IP Groups it names)
    ip_urns = {r["urn"] for r in children if r["type"] == IP_GROUP}
    for i, r in enumerate(children[1:], start=1):
        assert set(r["dependencies"]) <= {children[i - 1]["urn"]} | ip_urns


def test_outputs_are_registered_and_exposed(dev_run):
    [comp] = dev_run.of_type(COMPONENT_TYPE)
    outputs = dev_run.outputs(comp["urn"])
    render = render_azure(dev_plan(), dev_config())
    assert outputs["groupNames"] == [g.name for g in render.groups]
    assert outputs["groupIds"] == [
        f"/subscriptions/{SUB}/resourceGroups/rg-egress-dev/providers/mock/azure-{g.name}" for g in render.groups
    ]
    assert outputs["ipGroupIds"] == {g.name: ip_group_id("rg-egress-dev", g.name, SUB) for g in render.ip_groups}
    # Azure Front Door's IPv6 ranges (ID 163) are named as not expressible, never dropped silently
    ipv6 = [
        {"entry": "intune-163", "destination": d} for d in ("2620:1ec:40::/48", "2620:1ec:49::/48", "2620:1ec:4a::/47")
    ]
    assert outputs["ruleCount"] == render.rule_count > 14
    assert [{k: n[k] for k in ("entry", "destination")} for n in outputs["notExpressible"]] == ipv6
    references = {(e.id, None) for e in load_catalogue().entries if e.kind is EntryKind.REFERENCE}
    # and the shared-tenant wildcards the demo stack leaves out (sharedTenantWildcards: exact, the default)
    left_out = {("intune-181", "*.monitor.azure.com"), ("intune-187", "*.webpubsub.azure.com")}
    assert {(s["entry"], s.get("destination")) for s in outputs["skipped"]} == references | left_out
    assert outputs["policyId"].endswith("/azure-policy")
    names, ids, ip_ids, count, not_expressible = dev_run.values["attributes"]
    assert (names, ids, ip_ids, plain(count), plain(not_expressible)) == (
        outputs["groupNames"],
        outputs["groupIds"],
        outputs["ipGroupIds"],
        render.rule_count,
        outputs["notExpressible"],
    )
    assert dev_run.registrations[-1]["type"] == GROUP  # register_outputs came after the last child


def test_an_existing_policy_without_dns_proxy_gets_groups_only(pulumi_run):
    stack = load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    config = stack.azure
    plan = build_plan(load_catalogue(), stack.selection.to_selection(), ["10.20.0.0/16"])
    run = component(pulumi_run, AzureFirewallRulesArgs(plan=plan, config=config))
    assert run.of_type(POLICY) == [] and run.of_type(FIREWALL) == []
    groups = run.of_type(GROUP)
    assert groups and {a["inputs"]["firewallPolicyName"] for a in groups} == {"fwpol-egress-prod"}
    children = [r for r in run.registrations if r["type"].startswith("azure-native:")]
    assert children[0]["dependencies"] == []
    for before, after in zip(children, children[1:], strict=False):
        assert before["urn"] in after["dependencies"]


def test_classic_target_manages_the_firewall_with_the_rendered_collections(pulumi_run):
    data = dev_config().model_dump(by_alias=True)
    config = AzureConfig.model_validate(
        {
            **data,
            "target": "classic",
            "firewallName": "fw-egress",
            "createPolicy": None,
            "policyName": None,
            "location": "westeurope",
        }
    )
    fw_args = {
        "location": "westeurope",
        "sku": {"name": "AZFW_VNet", "tier": "Standard"},
        "additional_properties": {"Network.SNAT.PrivateRanges": "IANAPrivateRanges"},
    }
    run = component(pulumi_run, AzureFirewallRulesArgs(plan=dev_plan(), config=config, firewall_args=fw_args))
    render = render_azure(dev_plan(), config)
    assert run.of_type(GROUP) == [] and run.of_type(POLICY) == []
    [fw] = run.of_type(FIREWALL)
    inputs = plain(fw["inputs"])
    assert inputs["azureFirewallName"] == "fw-egress" and inputs["resourceGroupName"] == "rg-egress-dev"
    assert inputs["sku"] == {"name": "AZFW_VNet", "tier": "Standard"} and inputs["location"] == "westeurope"
    assert inputs["additionalProperties"] == {
        "Network.SNAT.PrivateRanges": "IANAPrivateRanges",
        "Network.DNS.EnableProxy": "true",
    }
    for key in ("applicationRuleCollections", "networkRuleCollections"):
        assert inputs[key] == with_sub(classic_flat(render.classic[key]))
    children = [r for r in run.registrations if r["type"].startswith("azure-native:")]
    assert [r["type"] for r in children] == [IP_GROUP, FIREWALL]
    assert children[0]["urn"] in children[1]["dependencies"]
    [comp] = run.of_type(COMPONENT_TYPE)
    assert {r["parent"] for r in children} == {comp["urn"]}


def test_classic_without_the_firewall_definition_or_with_clashing_args_registers_nothing(pulumi_run):
    data = dev_config().model_dump(by_alias=True)
    config = AzureConfig.model_validate({**data, "target": "classic", "firewallName": "fw-egress"})
    for fw_args, message in ((None, "firewall_args"), ({"network_rule_collections": []}, "must not set")):

        def program(run, fw_args=fw_args, message=message):
            with pytest.raises(ValueError, match=message):
                AzureFirewallRules(
                    "azure", AzureFirewallRulesArgs(plan=dev_plan(), config=config, firewall_args=fw_args)
                )

        run = Run(pulumi_run, program)
        assert [r["type"] for r in run.registrations if r["type"] != "pulumi:pulumi:Stack"] == []


def test_a_render_error_registers_nothing(pulumi_run):
    s = Service(protocol="tcp", port=5228)
    rule = Rule(
        name="a-dnsfqdn-tcp5228",
        area="a",
        kind=RuleKind.HOST_NETWORK,
        services=(s,),
        destinations=("mtalk.google.com",),
        origins=(("mtalk.google.com", ("fcm",)),),
    )
    plan = Plan(
        areas=(AreaPlan("a", "a", 1000, (rule,)),),
        source_ranges=("10.0.0.0/8",),
        skipped=(),
        selected_entries=("fcm",),
        digest="x",
    )
    config = AzureConfig(resource_group_name="rg", policy_name="pol", dns_proxy=False)

    def program(run):
        with pytest.raises(RenderError, match="fcm"):
            AzureFirewallRules("azure", AzureFirewallRulesArgs(plan=plan, config=config))

    run = Run(pulumi_run, program)
    assert [r["type"] for r in run.registrations if r["type"] != "pulumi:pulumi:Stack"] == []


@pytest.mark.parametrize(
    "key, expected",
    [
        ("ruleCollectionType", "rule_collection_type"),
        ("sourceIpGroups", "source_ip_groups"),
        ("destinationFqdns", "destination_fqdns"),
        ("terminateTLS", "terminate_tls"),
        ("name", "name"),
        ("ipProtocols", "ip_protocols"),
        ("protocolType", "protocol_type"),
    ],
)
def test_snake_case_keys(key, expected):
    assert snake(key) == expected


def test_an_unknown_field_fails_in_the_sdk_args_constructor():
    import pulumi_azure_native.network as network

    with pytest.raises(TypeError):
        _args(network.NetworkRuleArgs, {"ruleType": "NetworkRule", "destinationFQDNs": ["x.example"]})
