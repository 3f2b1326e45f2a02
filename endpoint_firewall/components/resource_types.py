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


def cloud_of(type_token: str) -> str | None:
    """``azure`` or ``aws`` for a resource or component type token of ours (None: neither, e.g. the stack)."""
    for cloud, heads in (
        ("azure", ("azure-native:", "endpoint-firewall:azure:")),
        ("aws", ("aws:", "endpoint-firewall:aws:")),
    ):
        if type_token.startswith(heads):
            return cloud
    return None
