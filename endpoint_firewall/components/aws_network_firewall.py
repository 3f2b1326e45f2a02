"""AWS Network Firewall egress rules as a Pulumi component: the stateful rule groups of
:func:`~endpoint_firewall.renderers.aws.render.render_aws`, and optionally the firewall policy that uses them.

Each ``networkfirewall.RuleGroup`` is the rendered ``CreateRuleGroup`` request converted field by field
(``name``, ``capacity``, ``type``, ``description``, ``rule_group={rule_variables, rules_source,
stateful_rule_options}``), so ``epfw render`` files, ``epfw check`` verdicts and the deployment are the
same rules.

Replacement safety. Capacity, rule order and type cannot change in place: AWS replaces the group. The
physical name ends with a hash of exactly those properties, so a replacement gets a new name; Pulumi
creates it first (``delete_before_replace=False``), the policy (which depends on the new ARN) moves to it,
and only then is the old group deleted: no name collision, and never a group deleted while a policy still
references it. Anything else (rules, targets, variables, description) updates the group in place under the
same name. The Pulumi resource names are the groups' roles (``<name>-rules``, ``<name>-tls-sni``...), so a
replacement is a replace of one resource, not a delete plus an unrelated create.

When the policy is outside the stack (no ``firewallPolicy``: prod), that policy references the groups by ARN and
Pulumi cannot move it: a replaced group's delete would fail ("in use") after its replacement was created, and the
policy would never learn the new ARN. So the groups are kept on delete (``onDelete.groups``, default ``retain``
then): Pulumi creates the replacement and forgets the old group, which stays in AWS, referenced and enforcing,
until the policy's owner swaps the ARN and deletes it. The outputs say so (``outsidePolicy``: the ARNs the policy
must reference, and the two steps); ``epfw preview --base`` names the old and the new group. With the policy in
the stack, groups are deleted after the policy moved (``onDelete.groups`` default ``delete``), and the policy
itself is protected (``onDelete.policy``): its replacement (``ruleOrder``) or removal fails in preview, since the
firewall that uses it is outside the stack. docs/deploying.md walks through both.

How capacity is computed and pinned (``capacityHeadroom``, ``config.capacity``), and so when a group is
replaced: :mod:`endpoint_firewall.renderers.aws.render` (the module docstring), where it is computed.

The firewall policy's rule order cannot change in place either (AWS replaces the policy). In ``STRICT_ORDER``
its physical name is ``firewallPolicy.name`` plus a short hash of the rule order
(:func:`~endpoint_firewall.renderers.aws.groups.policy_name`; ``DEFAULT_ACTION_ORDER`` keeps the bare name), so
switching the order either way creates the new policy under another name before the old one is deleted.
A firewall must move to the new policy before the old one can be deleted: reference ``firewallPolicyArn``
from this component's outputs so Pulumi updates the firewall in between.

Rule order and default actions of the policy (when ``config.firewall_policy`` is set): the policy takes
``config.rule_order``; in ``STRICT_ORDER`` it references each group with the group's rendered ``priority`` and
sets ``stateful_default_actions``. What each order means for the groups and the deny is explained once, where
the rules are made: the module docstring of :mod:`endpoint_firewall.renderers.aws.render`; why the app-layer default
actions are the default: docs/aws-rules.md, "Rule order".

The policy forwards everything to the stateful engine (``aws:forward_to_sfe`` for packets and fragments)
and sets its ``HOME_NET`` to the source ranges; every group sets ``HOME_NET`` and ``EXTERNAL_NET`` (its
complement) itself as well, so the domain lists' ``$EXTERNAL_NET`` is everything outside the managed devices
whichever policy uses them.
Child names are part of the deployed state. Once released, a renamed child keeps its old name as an alias
(``opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="<old name>")])``) so that Pulumi updates it in
place instead of replacing it. A consumer's ``opts`` (provider, protect, ...) reach every child through
``parent=self``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import networkfirewall

from ..config.aws_config import AwsConfig, RuleOrder
from ..config.base import OnDelete
from ..planning.rules import Plan
from ..renderers.aws.model import AwsRuleGroup
from ..renderers.aws.render import AwsRender, render_aws
from .lifecycle import Tags, lifecycle_options, merged_tags

COMPONENT_TYPE = "endpoint-firewall:aws:NetworkFirewallRules"


@dataclass(frozen=True)
class AwsNetworkFirewallRulesArgs:
    plan: Plan
    config: AwsConfig
    render: AwsRender | None = None  # render_aws(plan, config), when the caller rendered already
    tags: Tags | None = None  # on the rule groups and the policy


def outside_policy_steps(name_prefix: str, on_delete: OnDelete) -> str:
    """What the owner of a firewall policy outside the stack does when a group is replaced, as the outputs say it."""
    kept = {
        OnDelete.RETAIN: "Pulumi creates the new group and keeps the old one in AWS (retainOnDelete), still "
        "referenced by the policy and enforcing the old rules",
        OnDelete.PROTECT: "preview and up refuse (the groups are protected): unprotect the group to replace it, "
        "then the two steps below",
        OnDelete.DELETE: "Pulumi would delete the old group, which AWS refuses while the policy uses it",
    }[on_delete]
    return (
        f"The firewall policy outside this stack must reference exactly ruleGroupArns. When a group is replaced (its "
        f"name {name_prefix}-<role>-<hash> changes: capacity, rule order, fqdnMode, namePrefix), {kept}. Then: 1. in "
        "that policy, replace the old group's ARN by the new one from ruleGroupArns; 2. delete the old group: aws "
        "network-firewall delete-rule-group --rule-group-arn <old ARN>. epfw preview --base <deployed ref> names the "
        "old and the new group."
    )


def rule_group_args(request: dict[str, Any]) -> dict[str, Any]:
    """A ``CreateRuleGroup`` request as ``networkfirewall.RuleGroup`` keyword arguments."""
    group = request["RuleGroup"]
    ip_sets = [
        networkfirewall.RuleGroupRuleGroupRuleVariablesIpSetArgs(
            key=key,
            ip_set=networkfirewall.RuleGroupRuleGroupRuleVariablesIpSetIpSetArgs(definitions=list(value["Definition"])),
        )
        for key, value in group.get("RuleVariables", {}).get("IPSets", {}).items()
    ]
    source = group["RulesSource"]
    if "RulesSourceList" in source:
        listed = source["RulesSourceList"]
        rules_source = networkfirewall.RuleGroupRuleGroupRulesSourceArgs(
            rules_source_list=networkfirewall.RuleGroupRuleGroupRulesSourceRulesSourceListArgs(
                generated_rules_type=listed["GeneratedRulesType"],
                target_types=list(listed["TargetTypes"]),
                targets=list(listed["Targets"]),
            )
        )
    else:
        rules_source = networkfirewall.RuleGroupRuleGroupRulesSourceArgs(rules_string=source["RulesString"])
    return {
        "name": request["RuleGroupName"],
        "type": request["Type"],
        "capacity": request["Capacity"],
        "description": request.get("Description"),
        "rule_group": networkfirewall.RuleGroupRuleGroupArgs(
            rule_variables=networkfirewall.RuleGroupRuleGroupRuleVariablesArgs(ip_sets=ip_sets) if ip_sets else None,
            rules_source=rules_source,
            stateful_rule_options=networkfirewall.RuleGroupRuleGroupStatefulRuleOptionsArgs(
                rule_order=group["StatefulRuleOptions"]["RuleOrder"]
            ),
        ),
    }


class AwsNetworkFirewallRules(pulumi.ComponentResource):
    """The rendered stateful rule groups (and, with ``config.firewall_policy``, a policy using them).

    Attributes: ``render`` (the :class:`AwsRender` deployed), ``rule_groups`` (role -> RuleGroup),
    ``policy`` (or None), ``outputs`` (what :meth:`register_outputs` got, each a ``pulumi.Output``).
    """

    def __init__(self, name: str, args: AwsNetworkFirewallRulesArgs, opts: pulumi.ResourceOptions | None = None):
        # Render before registering anything: a plan that cannot be rendered registers nothing.
        render = args.render or render_aws(args.plan, args.config)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.render: AwsRender = render
        config = args.config
        tags = merged_tags(args.tags)
        self.rule_groups: dict[str, networkfirewall.RuleGroup] = {}
        for group in self.render.groups:
            self.rule_groups[group.role] = networkfirewall.RuleGroup(
                f"{name}-{group.role}",
                **rule_group_args(group.request),
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=False, **lifecycle_options(config.groups_on_delete)
                ),
            )
        self.policy = self._policy(name, config, tags) if config.firewall_policy else None
        report: dict[str, Any] = {
            "ruleGroupArns": {role: rg.arn for role, rg in self.rule_groups.items()},
            "ruleGroupNames": {g.role: g.name for g in self.render.groups},
            "capacities": {g.role: g.capacity for g in self.render.groups},
            "capacityUsed": {g.role: g.used for g in self.render.groups},
            "ruleCounts": {g.role: g.rule_count for g in self.render.groups},
            "ruleOrder": self.render.rule_order.value,
            "widened": [f.to_json() for f in self.render.widened],
            "notExpressible": [f.to_json() for f in self.render.not_expressible],
            "warnings": list(self.render.warnings),
        }
        report["onDelete"] = {"groups": config.groups_on_delete.value}
        if self.policy is not None:
            report["onDelete"]["policy"] = config.on_delete.policy.value
            report["firewallPolicyArn"] = self.policy.arn
            report["firewallPolicyName"] = self.render.policy_name
        else:
            report["outsidePolicy"] = {
                "ruleGroupArns": [self.rule_groups[g.role].arn for g in _policy_order(self.render.groups)],
                "onReplace": outside_policy_steps(config.name_prefix, config.groups_on_delete),
            }
        # Outputs, as the Azure component's: a consumer combines them the same way whichever cloud
        self.outputs: dict[str, pulumi.Output[Any]] = {
            key: pulumi.Output.from_input(value) for key, value in report.items()
        }
        self.register_outputs(self.outputs)

    def _policy(self, name: str, config: AwsConfig, tags: Any) -> networkfirewall.FirewallPolicy:
        assert config.firewall_policy is not None
        strict = config.rule_order is RuleOrder.STRICT_ORDER
        references = [
            networkfirewall.FirewallPolicyFirewallPolicyStatefulRuleGroupReferenceArgs(
                resource_arn=self.rule_groups[group.role].arn, priority=group.priority if strict else None
            )
            for group in _policy_order(self.render.groups)
        ]
        return networkfirewall.FirewallPolicy(
            f"{name}-policy",
            name=self.render.policy_name,
            description=f"endpoint-firewall {config.name_prefix}: egress allowlist from the endpoint catalogue",
            firewall_policy=networkfirewall.FirewallPolicyFirewallPolicyArgs(
                stateless_default_actions=["aws:forward_to_sfe"],
                stateless_fragment_default_actions=["aws:forward_to_sfe"],
                stateful_rule_group_references=references,
                stateful_engine_options=networkfirewall.FirewallPolicyFirewallPolicyStatefulEngineOptionsArgs(
                    rule_order=config.rule_order.value
                ),
                stateful_default_actions=list(config.firewall_policy.stateful_default_actions) if strict else None,
                policy_variables=networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesArgs(
                    rule_variables=[
                        networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesRuleVariableArgs(
                            key="HOME_NET",
                            ip_set=networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesRuleVariableIpSetArgs(
                                definitions=list(self.render.source_ranges)
                            ),
                        )
                    ]
                ),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=False, **lifecycle_options(config.on_delete.policy)
            ),
        )


def _policy_order(groups: tuple[AwsRuleGroup, ...]) -> list[AwsRuleGroup]:
    return sorted(groups, key=lambda g: (g.priority or 0, groups.index(g)))
