"""The endpoint-firewall CrossGuard policy pack: the policies live in ``endpoint_firewall.guardrails``.

Run: ``pulumi preview --policy-pack policy [--policy-pack-config policy-config.json]``.
Constructing ``PolicyPack`` starts the analyzer server and blocks; nothing else belongs in this file.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from endpoint_firewall.guardrails import pulumi_policies

PolicyPack(
    name="endpoint-firewall-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=pulumi_policies(),
)
