"""An Azure DNS security policy (DNS resolver policy) as a Pulumi component: exactly the bodies of
:func:`~endpoint_firewall.renderers.azure.dns.render_azure_dns` (``epfw render`` writes them under ``azure/dns/`` and
into ``azure/template.json``).

Children, all parented to the component, named ``<name>-<role>`` from the render (deterministic): the
``DnsResolverPolicy`` (``<name>-policy``), a ``DnsResolverDomainList`` per list (``<name>-list-allowed``,
``<name>-list-everything``...), a ``DnsSecurityRule`` per rule (``<name>-rule-<rule>``) and a
``DnsResolverPolicyVirtualNetworkLink`` per VNet (``<name>-link-<vnet name>``). Rules reference their list by the list's ``id`` output (the render's ``{subscriptionId}``
placeholder). The catch-all rule depends on every allow rule and each link on every rule: no VNet is linked to a
policy without its allow rules, and Pulumi deletes the links first. The SDK (pulumi-azure-native 3.x) writes these
resources with API version 2023-07-01-preview; the bodies use only fields that version and 2025-05-01 (the REST
spec the tests check them against) both define. A consumer's ``opts`` reach every child through ``parent=self``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native.dnsresolver as dnsresolver

from ..renderers.azure.dns import AzureDnsRender
from .lifecycle import Tags, merged_tags

COMPONENT_TYPE = "endpoint-firewall:azure:DnsSecurityPolicy"


@dataclass(frozen=True)
class AzureDnsPolicyArgs:
    render: AzureDnsRender  # AzureRender.dns
    tags: Tags | None = None  # on every child (all four kinds take tags)
    # Inputs that override the render's (as AzureFirewallRulesArgs' do: the render names an Output by a placeholder)
    resource_group_name: pulumi.Input[str] | None = None
    location: pulumi.Input[str] | None = None


class AzureDnsPolicy(pulumi.ComponentResource):
    """The DNS layer of one Azure stack. Attributes: ``render``, ``policy``, ``domain_lists`` (list name ->
    resource), ``rules`` (rule name -> resource), ``links`` (VNet id -> resource), ``outputs``."""

    def __init__(self, name: str, args: AzureDnsPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        render = self.render = args.render
        rg = args.resource_group_name if args.resource_group_name is not None else render.resource_group
        where = args.location if args.location is not None else render.location
        tags = merged_tags(args.tags)
        self.policy = dnsresolver.DnsResolverPolicy(
            f"{name}-policy",
            resource_group_name=rg,
            dns_resolver_policy_name=render.policy,
            location=where,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.domain_lists: dict[str, dnsresolver.DnsResolverDomainList] = {
            dl.name: dnsresolver.DnsResolverDomainList(
                f"{name}-list-{dl.name.removeprefix(render.policy + '-')}",
                resource_group_name=rg,
                dns_resolver_domain_list_name=dl.name,
                location=where,
                tags=tags,
                domains=list(dl.domains),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for dl in render.lists
        }
        self.rules: dict[str, dnsresolver.DnsSecurityRule] = {}
        for rule in render.rules:
            after = list(self.rules.values()) if rule is render.rules[-1] else []
            self.rules[rule.name] = dnsresolver.DnsSecurityRule(
                f"{name}-rule-{rule.name}",
                resource_group_name=rg,
                dns_resolver_policy_name=render.policy,
                dns_security_rule_name=rule.name,
                location=where,
                tags=tags,
                priority=rule.priority,
                action=dnsresolver.DnsSecurityRuleActionArgs(action_type=rule.action),
                dns_resolver_domain_lists=[dnsresolver.SubResourceArgs(id=self.domain_lists[rule.domain_list].id)],
                dns_security_rule_state="Enabled",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy, *after]),
            )
        self.links: dict[str, dnsresolver.DnsResolverPolicyVirtualNetworkLink] = {
            link.vnet_id: dnsresolver.DnsResolverPolicyVirtualNetworkLink(
                f"{name}-{link.name}",
                resource_group_name=rg,
                dns_resolver_policy_name=render.policy,
                dns_resolver_policy_virtual_network_link_name=link.name,
                location=where,
                tags=tags,
                virtual_network=dnsresolver.SubResourceArgs(id=link.vnet_id),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy, *self.rules.values()]),
            )
            for link in render.links
        }
        summary = render.summary()
        report: dict[str, Any] = {
            "policyId": self.policy.id,
            "domainListIds": {n: dl.id for n, dl in self.domain_lists.items()},
            "linkIds": {vnet: link.id for vnet, link in self.links.items()},
            "mode": summary["mode"],
            "names": summary["names"],
            "widened": summary["widened"],
            "notResolved": summary["notResolved"],
            "warnings": summary["warnings"],
        }
        self.outputs: dict[str, pulumi.Output[Any]] = {k: pulumi.Output.from_input(v) for k, v in report.items()}
        self.register_outputs(self.outputs)
