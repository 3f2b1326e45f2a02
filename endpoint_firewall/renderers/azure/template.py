"""An Azure render as one ARM deployment template: exactly the bodies ``render_azure`` writes, for Azure's own
verdict before anything changes (``az deployment group what-if``) or for teams that deploy without Pulumi.

Pure: no Pulumi, no I/O. Target ``policy`` only: the template holds the Firewall Policy (when ``createPolicy``),
the IP Groups and the rule collection groups, in the order the Pulumi component registers them
(``components.azure_firewall``), each depending on the one before it, since Azure refuses concurrent writes to
one policy. It is deployed into the policy's resource group (``az deployment group ... --resource-group RG``), so
every reference is ``resourceId()`` of that deployment's resource group; the policy's name is the parameter
``policyName``. IP Group references in rules (the render's ``/subscriptions/{subscriptionId}/...`` placeholder)
become ``[resourceId('Microsoft.Network/ipGroups', '<name>')]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model import AzureGroup, AzureIpGroup, replace_ids

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
API_VERSION = "2024-05-01"  # the REST spec version the bodies are checked against (tests/fixtures/azure/spec)
POLICY = "Microsoft.Network/firewallPolicies"
GROUP = "Microsoft.Network/firewallPolicies/ruleCollectionGroups"
IP_GROUP = "Microsoft.Network/ipGroups"
FILE = "azure/template.json"
CLASSIC_REASON = (
    "target classic: no ARM template is written. Classic rule collections are properties of the "
    "AzureFirewall resource, which this stack manages whole (its sku, ipConfigurations, ... come from "
    "firewallArgs as Pulumi arguments); a template of it would redefine the whole firewall"
)


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _policy_id() -> str:
    return f"[resourceId('{POLICY}', parameters('policyName'))]"


def _ip_group_id(name: str) -> str:
    return f"[resourceId('{IP_GROUP}', {_quoted(name)})]"


def _group_id(name: str) -> str:
    return f"[resourceId('{GROUP}', parameters('policyName'), {_quoted(name)})]"


def arm_template(
    policy_name: str | None,
    policy_location: str | None,
    sku_tier: str,
    dns_proxy: bool,
    ip_groups: Sequence[AzureIpGroup],
    groups: Sequence[AzureGroup],
    dns_resources: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The deployment template of a target-policy render (``AzureRender.template``): the policy when it is created
    here (``policy_location`` set), the IP Groups, the rule collection groups, then the DNS security policy's
    resources (``dns_resources``)."""
    chain: list[tuple[str, dict[str, Any]]] = []  # (resource id expression, resource)
    if policy_location is not None:  # createPolicy: the same policy the component creates
        properties: dict[str, Any] = {"sku": {"tier": sku_tier}}
        if dns_proxy:
            properties["dnsSettings"] = {"enableProxy": True}
        chain.append(
            (
                _policy_id(),
                {
                    "type": POLICY,
                    "apiVersion": API_VERSION,
                    "name": "[parameters('policyName')]",
                    "location": policy_location,
                    "properties": properties,
                },
            )
        )
    ids = {g.id: _ip_group_id(g.name) for g in ip_groups}
    for g in ip_groups:
        chain.append(
            (
                ids[g.id],
                {
                    "type": IP_GROUP,
                    "apiVersion": API_VERSION,
                    "name": g.name,
                    "location": g.body["location"],
                    "properties": g.body["properties"],
                },
            )
        )
    for group in groups:
        name = f"[concat(parameters('policyName'), '/', {_quoted(group.name)})]"
        chain.append(
            (
                _group_id(group.name),
                {
                    "type": GROUP,
                    "apiVersion": API_VERSION,
                    "name": name,
                    "properties": replace_ids(group.body["properties"], ids),
                },
            )
        )
    resources = []
    for index, (_, resource) in enumerate(chain):
        if index:
            resource = {**resource, "dependsOn": [chain[index - 1][0]]}
        resources.append(resource)
    resources += dns_resources  # the DNS security policy: no write to the firewall policy, its own order
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generator": "endpoint-firewall (epfw render)",
            "description": "Deploy into the Firewall Policy's resource group; each resource depends on the "
            "one before it (Azure takes one write per policy at a time).",
        },
        "parameters": {
            "policyName": {
                "type": "string",
                "defaultValue": policy_name,
                "metadata": {"description": "the Firewall Policy the rule collection groups belong to"},
            }
        },
        "resources": resources,
    }
