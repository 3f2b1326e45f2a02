"""Route 53 Resolver DNS Firewall as a Pulumi component: exactly the requests of
:func:`~endpoint_firewall.renderers.aws.dns.render_aws_dns` (``epfw render`` writes them under ``aws/dns/``).

Children, all parented to the component, named ``<name>-<role>`` from the render (deterministic):
``ResolverFirewallDomainList`` per list (``<name>-list-allowed``, ``<name>-list-everything``...), the
``ResolverFirewallRuleGroup`` (``<name>-rule-group``), a ``ResolverFirewallRule`` per rule (``<name>-rule-<rule>``),
and per VPC a ``ResolverFirewallRuleGroupAssociation`` (``<name>-association-<vpc>``) and a
``ResolverFirewallConfig`` (``<name>-config-<vpc>``: fail open or closed).

Order: the catch-all rule depends on every allow rule, and each association on every rule, so a VPC is never
associated with a group whose allow rules are missing, and Pulumi deletes in the reverse order (the association
first, the allow rules last). With ``mutationProtection`` AWS refuses changes to the association made elsewhere
and its removal: set ``mutationProtection: false`` and ``pulumi up`` before removing the layer or a VPC. What each
setting means and why it is chosen: docs/dns.md. A consumer's ``opts`` reach every child through ``parent=self``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import route53

from ..renderers.aws.dns import REDIRECTION, AwsDnsRender
from .lifecycle import Tags, merged_tags

COMPONENT_TYPE = "endpoint-firewall:aws:DnsFirewall"


@dataclass(frozen=True)
class AwsDnsFirewallArgs:
    render: AwsDnsRender  # AwsRender.dns
    tags: Tags | None = None  # on the domain lists, the rule group and the associations (rules and configs take none)


class AwsDnsFirewall(pulumi.ComponentResource):
    """The DNS layer of one AWS stack. Attributes: ``render``, ``domain_lists`` (list name -> resource),
    ``rule_group``, ``rules`` (rule name -> resource), ``associations`` (VPC id -> resource), ``outputs``."""

    def __init__(self, name: str, args: AwsDnsFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        render = self.render = args.render
        tags = merged_tags(args.tags)
        base = render.rule_group
        self.domain_lists: dict[str, route53.ResolverFirewallDomainList] = {
            dl.name: route53.ResolverFirewallDomainList(
                f"{name}-list-{dl.name.removeprefix(base + '-')}",
                name=dl.name,
                domains=list(dl.domains),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for dl in render.lists
        }
        self.rule_group = route53.ResolverFirewallRuleGroup(
            f"{name}-rule-group", name=base, tags=tags, opts=pulumi.ResourceOptions(parent=self)
        )
        self.rules: dict[str, route53.ResolverFirewallRule] = {}
        for rule in render.rules:
            after = list(self.rules.values()) if rule is render.rules[-1] else []
            self.rules[rule.name] = route53.ResolverFirewallRule(
                f"{name}-rule-{rule.name}",
                name=rule.name,
                firewall_rule_group_id=self.rule_group.id,
                firewall_domain_list_id=self.domain_lists[rule.domain_list].id,
                priority=rule.priority,
                action=rule.action,
                block_response=render.block_response if rule.action == "BLOCK" else None,
                firewall_domain_redirection_action=REDIRECTION if rule.action == "ALLOW" else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )
        self.associations: dict[str, route53.ResolverFirewallRuleGroupAssociation] = {}
        for a in render.associations:
            association = route53.ResolverFirewallRuleGroupAssociation(
                f"{name}-association-{a.vpc_id}",
                name=a.name,
                firewall_rule_group_id=self.rule_group.id,
                vpc_id=a.vpc_id,
                priority=a.priority,
                mutation_protection="ENABLED" if a.mutation_protection else "DISABLED",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.rules.values())),
            )
            self.associations[a.vpc_id] = association
            route53.ResolverFirewallConfig(
                f"{name}-config-{a.vpc_id}",
                resource_id=a.vpc_id,
                firewall_fail_open="ENABLED" if render.fail_open else "DISABLED",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[association]),
            )
        summary = render.summary()
        report: dict[str, Any] = {
            "ruleGroupId": self.rule_group.id,
            "domainListIds": {n: dl.id for n, dl in self.domain_lists.items()},
            "associationIds": {vpc: a.id for vpc, a in self.associations.items()},
            "mode": summary["mode"],
            "names": summary["names"],
            "notResolved": summary["notResolved"],
            "warnings": summary["warnings"],
        }
        self.outputs: dict[str, pulumi.Output[Any]] = {k: pulumi.Output.from_input(v) for k, v in report.items()}
        self.register_outputs(self.outputs)
