"""Cross-language entry: the ``endpoint-firewall`` component provider and its two components.

``AzureFirewallRules`` and ``AwsNetworkFirewallRules`` take a Python ``Plan``, which other languages cannot
build. ``AzureEgressRules`` and ``AwsEgressRules`` take primitives instead (catalogue YAML text or paths, a
selection, source and peer ranges, the cloud's settings as a map validated like a stack file) and build
the plan, then the Python component, as their only child. Every resource below is parented to the
wrapper, so the consumer's ``provider``/``providers``, ``protect`` and other inherited options reach
every cloud resource; ``register_outputs`` is the constructor's last call.

Hosting: ``PulumiPlugin.yaml`` (``runtime: python``) at the repository root makes the repository a Pulumi
plugin; its ``__main__.py`` calls :func:`main` when the plugin host runs it (no engine monitor is
configured then), and consumers run ``pulumi package add <repo path or git URL>`` to get an SDK in their
language. The schema comes from the annotations (``pulumi.provider.experimental`` analyzer): the args
TypedDicts in :mod:`.consumer_args` and the ``pulumi.Output`` annotations on the classes below.

No ``from __future__ import annotations`` here: the analyzer reads the annotations as types.
"""

from importlib import metadata
from typing import Any

import pulumi

from .aws_dns_firewall import AwsDnsFirewall, AwsDnsFirewallArgs
from .aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs
from .azure_dns_policy import AzureDnsPolicy, AzureDnsPolicyArgs
from .azure_firewall import AzureFirewallRules, AzureFirewallRulesArgs, snake
from .consumer_args import AwsEgressRulesArgs, AzureEgressRulesArgs, plan_from_args

PACKAGE = "endpoint-firewall"


def _known(args: Any, name: str) -> dict[str, Any]:
    """The args as a dict of plain values: the plan is built at construction, so no value may be an Output."""
    values = dict(args or {})
    pending = sorted(k for k, v in values.items() if isinstance(v, pulumi.Output))
    if pending:
        raise ValueError(
            f"{name}: {', '.join(pending)} must be plain values known at construction "
            "(the rules are computed from them before anything is registered)"
        )
    return values


def _publish(component: Any, plan: Any, rules: Any) -> None:
    """Set the wrapper's outputs (declared on each class for the schema) and register them, last."""
    component.catalogue_digest = pulumi.Output.from_input(plan.digest)
    component.selected_entries = pulumi.Output.from_input(len(plan.selected_entries))
    component.rules = pulumi.Output.from_input(rules)
    component.register_outputs(
        {
            "catalogueDigest": component.catalogue_digest,
            "selectedEntries": component.selected_entries,
            "rules": component.rules,
        }
    )


class AzureEgressRules(pulumi.ComponentResource):
    """Azure Firewall egress rules from an endpoint catalogue: rule collection groups (or classic rules) and IP Groups."""

    catalogue_digest: pulumi.Output[str]
    """sha256 of the selected catalogue entries: changes exactly when the deployed entries change."""
    selected_entries: pulumi.Output[int]
    """How many catalogue entries the selection deploys."""
    rules: pulumi.Output[dict[str, Any]]
    """What the rules component reports: groupNames, groupIds, ipGroupIds, ruleCount, notExpressible, widened, skipped, policyId or firewallId; dns with azure.dns."""

    def __init__(self, name: str, args: AzureEgressRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        values = _known(args, f"AzureEgressRules {name}")
        plan, config = plan_from_args(values, "azure", f"AzureEgressRules {name}")
        assert config.azure is not None
        firewall_args = values.get("firewall_args")
        firewall_args = {snake(k): v for k, v in dict(firewall_args).items()} if firewall_args is not None else None
        super().__init__(f"{PACKAGE}:index:AzureEgressRules", name, None, opts)
        inner = AzureFirewallRules(
            name,
            AzureFirewallRulesArgs(plan=plan, config=config.azure, firewall_args=firewall_args),
            opts=pulumi.ResourceOptions(parent=self),
        )
        outputs = dict(inner.outputs)
        if inner.render.dns is not None:  # azure.dns: the DNS security policy, a sibling of the rules
            dns = AzureDnsPolicy(
                f"{name}-dns", AzureDnsPolicyArgs(inner.render.dns), pulumi.ResourceOptions(parent=self)
            )
            outputs["dns"] = pulumi.Output.from_input(dns.outputs)
        _publish(self, plan, outputs)


class AwsEgressRules(pulumi.ComponentResource):
    """AWS Network Firewall egress rules from an endpoint catalogue: stateful rule groups and optionally their policy."""

    catalogue_digest: pulumi.Output[str]
    """sha256 of the selected catalogue entries: changes exactly when the deployed entries change."""
    selected_entries: pulumi.Output[int]
    """How many catalogue entries the selection deploys."""
    rules: pulumi.Output[dict[str, Any]]
    """What the rules component reports: ruleGroupArns, ruleGroupNames, capacities, capacityUsed, ruleCounts, ruleOrder, firewallPolicyArn, ...; dns with aws.dns."""

    def __init__(self, name: str, args: AwsEgressRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        values = _known(args, f"AwsEgressRules {name}")
        plan, config = plan_from_args(values, "aws", f"AwsEgressRules {name}")
        assert config.aws is not None
        super().__init__(f"{PACKAGE}:index:AwsEgressRules", name, None, opts)
        inner = AwsNetworkFirewallRules(
            name, AwsNetworkFirewallRulesArgs(plan=plan, config=config.aws), opts=pulumi.ResourceOptions(parent=self)
        )
        outputs = dict(inner.outputs)
        if inner.render.dns is not None:  # aws.dns: Route 53 Resolver DNS Firewall, a sibling of the rule groups
            dns = AwsDnsFirewall(
                f"{name}-dns", AwsDnsFirewallArgs(inner.render.dns), pulumi.ResourceOptions(parent=self)
            )
            outputs["dns"] = pulumi.Output.from_input(dns.outputs)
        _publish(self, plan, outputs)


COMPONENTS: list[type[pulumi.ComponentResource]] = [AzureEgressRules, AwsEgressRules]


def version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "0.0.0"


def main() -> None:
    """Host the components (blocks, serving the engine): what the plugin's ``__main__.py`` runs."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(components=COMPONENTS, name=PACKAGE, version=version())


if __name__ == "__main__":
    main()
