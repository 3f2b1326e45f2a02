"""Pulumi type tokens of the cloud resources the components register, in one place.

Used by the guardrails (``endpoint_firewall.guardrails``), the rule-level diff (``preview/resource_diff.py``)
and its printer (``cli/diff_format.py``). Plain strings only: importing this module imports nothing else.
"""

from __future__ import annotations

AZURE_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
AZURE_POLICY = "azure-native:network:FirewallPolicy"
AZURE_FIREWALL = "azure-native:network:AzureFirewall"
AZURE_IP_GROUP = "azure-native:network:IpGroup"
AWS_RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
AWS_FIREWALL_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"
# The DNS layer (docs/dns.md)
AWS_DNS_DOMAIN_LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
AWS_DNS_RULE_GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
AWS_DNS_RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
AWS_DNS_ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"
AWS_DNS_CONFIG = "aws:route53/resolverFirewallConfig:ResolverFirewallConfig"
AZURE_DNS_POLICY = "azure-native:dnsresolver:DnsResolverPolicy"
AZURE_DNS_DOMAIN_LIST = "azure-native:dnsresolver:DnsResolverDomainList"
AZURE_DNS_RULE = "azure-native:dnsresolver:DnsSecurityRule"
AZURE_DNS_LINK = "azure-native:dnsresolver:DnsResolverPolicyVirtualNetworkLink"


def cloud_of(type_token: str) -> str | None:
    """``azure`` or ``aws`` for a resource or component type token of ours (None: neither, e.g. the stack)."""
    for cloud, heads in (
        ("azure", ("azure-native:", "endpoint-firewall:azure:")),
        ("aws", ("aws:", "endpoint-firewall:aws:")),
    ):
        if type_token.startswith(heads):
            return cloud
    return None
