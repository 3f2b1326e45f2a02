"""AwsNetworkFirewallRules under Pulumi mocks: what it registers, with which inputs, parents and options."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
from conftest import ROOT

from endpoint_firewall.config.aws_config import AwsConfig, AwsLimits, AwsPolicyConfig, FqdnMode, RuleOrder
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.preview.mock_runner import RecordingMocks
from endpoint_firewall.renderers.aws.model import AwsRenderError
from endpoint_firewall.renderers.aws.render import render_aws

COMPONENT = "endpoint-firewall:aws:NetworkFirewallRules"
RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"


def answer(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
    """The inputs back, with the ARN AWS gives a rule group or policy (from its physical name)."""
    outputs = dict(args.inputs)
    if args.typ == RULE_GROUP:
        outputs["arn"] = f"arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/{args.inputs['name']}"
    if args.typ == POLICY:
        outputs["arn"] = f"arn:aws:network-firewall:eu-west-1:123456789012:firewall-policy/{args.inputs['name']}"
    return f"{args.name}-id", outputs


def stack_plan(name: str):
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
    return config, build_plan(
        load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges
    )


def expected_inputs(request: dict) -> dict:
    """A CreateRuleGroup request in the shape the mocks record (camelCase, ipSets as a key/ipSet list)."""
    group = request["RuleGroup"]
    source = group["RulesSource"]
    if "RulesSourceList" in source:
        listed = source["RulesSourceList"]
        rules_source = {
            "rulesSourceList": {
                "generatedRulesType": listed["GeneratedRulesType"],
                "targetTypes": listed["TargetTypes"],
                "targets": listed["Targets"],
            }
        }
    else:
        rules_source = {"rulesString": source["RulesString"]}
    return {
        "name": request["RuleGroupName"],
        "type": request["Type"],
        "capacity": request["Capacity"],
        "description": request["Description"],
        "ruleGroup": {
            "ruleVariables": {
                "ipSets": [
                    {"key": k, "ipSet": {"definitions": v["Definition"]}}
                    for k, v in group["RuleVariables"]["IPSets"].items()
                ]
            },
            "rulesSource": rules_source,
            "statefulRuleOptions": {"ruleOrder": group["StatefulRuleOptions"]["RuleOrder"]},
        },
    }


@pytest.fixture
def deploy(pulumi_run) -> Callable[..., RecordingMocks]:
    """``deploy(plan, config, seen=None)``: the component under fresh mocks; ``seen`` gets each child's options,
    the component and its outputs."""
    from endpoint_firewall.components.aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs

    def run(plan, config: AwsConfig, seen: dict | None = None) -> RecordingMocks:
        def record(args: pulumi.ResourceTransformationArgs):
            if seen is not None:
                seen[args.name] = {
                    "type": args.type_,
                    "parent": args.opts.parent,
                    "delete_before_replace": args.opts.delete_before_replace,
                }
            return None

        def body():
            component = AwsNetworkFirewallRules(
                "aws",
                AwsNetworkFirewallRulesArgs(plan=plan, config=config),
                opts=pulumi.ResourceOptions(transformations=[record]),
            )
            if seen is not None:
                seen["__component__"] = component
                return pulumi.Output.all(
                    names=component.outputs["ruleGroupNames"], arns=component.outputs["ruleGroupArns"]
                ).apply(lambda v: seen.__setitem__("__outputs__", v))

        return pulumi_run(body, answer)

    return run


def of_type(mocks: RecordingMocks, typ: str) -> list[dict]:
    """Resources of ``typ`` sorted by name (mocks record registrations in completion order)."""
    return sorted((r for r in mocks.resources if r["type"] == typ), key=lambda r: r["name"])


def test_dev_registers_each_rendered_group_with_the_rendered_inputs(deploy):
    stack, plan = stack_plan("dev")
    render = render_aws(plan, stack.aws)
    seen: dict = {}
    mocks = deploy(plan, stack.aws, seen)
    [component] = of_type(mocks, COMPONENT)
    assert component["name"] == "aws" and not component["custom"]
    groups = of_type(mocks, RULE_GROUP)
    assert [g["name"] for g in groups] == sorted(f"aws-{g.role}" for g in render.groups)
    by_name = {g["name"]: g for g in groups}
    for group in render.groups:
        recorded = by_name[f"aws-{group.role}"]
        assert recorded["inputs"] == expected_inputs(group.request)
        assert recorded["inputs"]["capacity"] == group.capacity >= group.used
        ip_sets = {
            s["key"]: s["ipSet"]["definitions"] for s in recorded["inputs"]["ruleGroup"]["ruleVariables"]["ipSets"]
        }
        assert ip_sets["HOME_NET"] == ["10.10.0.0/16"]
        assert recorded["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] == "DEFAULT_ACTION_ORDER"
    rules = next(g for g in groups if g["name"] == "aws-rules")
    # the address-only entry's address (ID 163's are left to its names: addressRules names-only)
    assert "INTUNE_CO_IP_HTTP80_HTTPS443" in {s["key"] for s in rules["inputs"]["ruleGroup"]["ruleVariables"]["ipSets"]}
    # parents and replacement options
    comp = seen["__component__"]
    for g in render.groups:
        assert seen[f"aws-{g.role}"]["parent"] is comp
        assert seen[f"aws-{g.role}"]["delete_before_replace"] is False
    assert seen["aws-policy"]["parent"] is comp
    # outputs registered last: names and ARNs per role
    outputs = seen["__outputs__"]
    assert outputs["names"] == {g.role: g.name for g in render.groups}
    assert outputs["arns"]["rules"].endswith("/" + render.groups[0].name)


def test_dev_policy_references_every_group_without_priorities(deploy):
    stack, plan = stack_plan("dev")
    mocks = deploy(plan, stack.aws)
    groups = of_type(mocks, RULE_GROUP)
    [policy] = of_type(mocks, POLICY)
    body = policy["inputs"]["firewallPolicy"]
    assert policy["inputs"]["name"] == "epfw-dev-egress"
    arns = [r["resourceArn"] for r in body["statefulRuleGroupReferences"]]
    assert sorted(arns) == sorted(
        f"arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/{g['inputs']['name']}" for g in groups
    )
    assert all("priority" not in r for r in body["statefulRuleGroupReferences"])
    assert body["statefulEngineOptions"]["ruleOrder"] == "DEFAULT_ACTION_ORDER"
    assert "statefulDefaultActions" not in body  # only valid in STRICT_ORDER
    assert body["statelessDefaultActions"] == body["statelessFragmentDefaultActions"] == ["aws:forward_to_sfe"]
    assert body["policyVariables"]["ruleVariables"] == [{"key": "HOME_NET", "ipSet": {"definitions": ["10.10.0.0/16"]}}]


def test_strict_order_policy_priorities_and_default_actions(deploy):
    stack, plan = stack_plan("dev")
    config = stack.aws.model_copy(
        update={
            "rule_order": RuleOrder.STRICT_ORDER,
            "firewall_policy": AwsPolicyConfig(
                name="epfw-strict", stateful_default_actions=("aws:drop_established", "aws:alert_established")
            ),
        }
    )
    render = render_aws(plan, config)
    mocks = deploy(plan, config)
    [policy] = of_type(mocks, POLICY)
    body = policy["inputs"]["firewallPolicy"]
    names = {g.name: g for g in render.groups}
    refs = [(r["resourceArn"].rsplit("/", 1)[1], r["priority"]) for r in body["statefulRuleGroupReferences"]]
    assert [(n, p) for n, p in refs] == [(g.name, g.priority) for g in sorted(render.groups, key=lambda g: g.priority)]
    assert [names[n].role for n, _ in refs] == ["rules", "http-host", "tls-sni"]  # port-exact rules first
    assert body["statefulDefaultActions"] == ["aws:drop_established", "aws:alert_established"]
    assert body["statefulEngineOptions"]["ruleOrder"] == "STRICT_ORDER"
    for g in of_type(mocks, RULE_GROUP):
        assert g["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] == "STRICT_ORDER"


def test_prod_without_policy_registers_only_rule_groups(deploy):
    stack, plan = stack_plan("prod")
    assert stack.aws.firewall_policy is None
    render = render_aws(plan, stack.aws)
    mocks = deploy(plan, stack.aws)
    assert not of_type(mocks, POLICY)
    groups = of_type(mocks, RULE_GROUP)
    assert {g["name"]: g["inputs"] for g in groups} == {
        f"aws-{g.role}": expected_inputs(g.request) for g in render.groups
    }
    assert {g["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] for g in groups} == {"STRICT_ORDER"}
    ip_sets = {s["key"]: s["ipSet"]["definitions"] for s in groups[0]["inputs"]["ruleGroup"]["ruleVariables"]["ipSets"]}
    assert ip_sets["HOME_NET"] == ["10.20.0.0/15"]  # 10.20.0.0/16 + 10.21.0.0/16, merged by the plan


def test_a_capacity_change_gives_a_new_physical_name_under_the_same_resource_name(deploy):
    stack, plan = stack_plan("dev")
    a = of_type(deploy(plan, stack.aws), RULE_GROUP)
    b = of_type(deploy(plan, stack.aws.model_copy(update={"capacity_headroom": 4.0})), RULE_GROUP)
    assert [g["name"] for g in a] == [g["name"] for g in b]
    changed = [(x, y) for x, y in zip(a, b, strict=False) if x["inputs"]["capacity"] != y["inputs"]["capacity"]]
    assert changed
    for x, y in zip(a, b, strict=False):
        assert (x["inputs"]["capacity"] != y["inputs"]["capacity"]) == (x["inputs"]["name"] != y["inputs"]["name"])


def test_a_render_error_registers_nothing(pulumi_run):
    stack, plan = stack_plan("dev")
    bad = stack.aws.model_copy(update={"limits": AwsLimits(rule_max_chars=60)})
    with pytest.raises(AwsRenderError):
        render_aws(plan, bad)
    mocks = RecordingMocks(answer)
    from endpoint_firewall.components.aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs

    with pytest.raises(Exception, match="ruleMaxChars"):
        pulumi_run(
            lambda: AwsNetworkFirewallRules("aws", AwsNetworkFirewallRulesArgs(plan=plan, config=bad)), mocks=mocks
        )
    assert mocks.resources == []


def test_exact_mode_single_rules_group(deploy):
    stack, plan = stack_plan("dev")
    config = stack.aws.model_copy(update={"fqdn_mode": FqdnMode.EXACT})
    mocks = deploy(plan, config)
    groups = of_type(mocks, RULE_GROUP)
    assert [g["name"] for g in groups] == ["aws-rules"]
    assert "rulesString" in groups[0]["inputs"]["ruleGroup"]["rulesSource"]


def test_changing_the_rule_order_replaces_the_policy_under_another_physical_name(deploy):
    """AWS cannot change a policy's rule order in place: the policy is replaced. Its physical name carries the
    rule order in STRICT_ORDER, so Pulumi creates the new one (delete_before_replace False) without colliding
    with the old one, under the same resource name."""
    stack, plan = stack_plan("dev")
    default = stack.aws
    strict = default.model_copy(update={"rule_order": RuleOrder.STRICT_ORDER})
    seen_default: dict = {}
    seen_strict: dict = {}
    [a] = of_type(deploy(plan, default, seen_default), POLICY)
    [b] = of_type(deploy(plan, strict, seen_strict), POLICY)
    assert a["name"] == b["name"] == "aws-policy"
    assert a["inputs"]["name"] == "epfw-dev-egress"  # DEFAULT_ACTION_ORDER keeps the configured name
    assert b["inputs"]["name"].startswith("epfw-dev-egress-") and b["inputs"]["name"] != a["inputs"]["name"]
    assert b["inputs"]["name"] == render_aws(plan, strict).policy_name
    assert b["inputs"]["firewallPolicy"]["statefulEngineOptions"]["ruleOrder"] == "STRICT_ORDER"
    assert b["inputs"]["firewallPolicy"]["statefulDefaultActions"] == [
        "aws:drop_established_app_layer",
        "aws:alert_established_app_layer",
    ]
    for seen in (seen_default, seen_strict):
        assert seen["aws-policy"]["delete_before_replace"] is False
    # every rule group is renamed too (rule order is in their names): nothing collides on the way back either
    names_a = {g["inputs"]["name"] for g in of_type(deploy(plan, default), RULE_GROUP)}
    names_b = {g["inputs"]["name"] for g in of_type(deploy(plan, strict), RULE_GROUP)}
    assert not names_a & names_b


def test_a_pinned_capacity_is_what_is_registered(deploy):
    stack, plan = stack_plan("dev")
    render = render_aws(plan, stack.aws)
    pins = {g.role: g.capacity + 100 for g in render.groups}
    pinned = stack.aws.model_copy(update={"capacity": pins})
    groups = {g["name"]: g["inputs"] for g in of_type(deploy(plan, pinned), RULE_GROUP)}
    for g in render_aws(plan, pinned).groups:
        assert groups[f"aws-{g.role}"]["capacity"] == pins[g.role]
        assert groups[f"aws-{g.role}"]["name"] == g.name
