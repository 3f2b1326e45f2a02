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

from typing import Any

import pulumi

from .. import package_version
from .aws_dns_firewall import AwsDnsFirewall, AwsDnsFirewallArgs
from .aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs
from .azure_dns_policy import AzureDnsPolicy, AzureDnsPolicyArgs
from .azure_firewall import AzureFirewallRules, AzureFirewallRulesArgs
from .consumer_args import PASSED_THROUGH, AwsEgressRulesArgs, AzureEgressRulesArgs, plan_from_args

PACKAGE = "endpoint-firewall"


def _known(args: Any, name: str) -> dict[str, Any]:
    """The args as a dict: the plan is built at construction, so no value that decides it may be an Output (the
    names and tags of ``PASSED_THROUGH`` may: they are passed through to the children)."""
    values = dict(args or {})
    pending = sorted(k for k, v in values.items() if isinstance(v, pulumi.Output) and k not in PASSED_THROUGH)
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
        super().__init__(f"{PACKAGE}:index:AzureEgressRules", name, None, opts)
        inner = AzureFirewallRules(
            name,
            AzureFirewallRulesArgs(
                plan=plan,
                config=config.azure,
                firewall_args=config.azure.firewall_args,  # snake_case keys, placed in the settings by plan_from_args
                resource_group_name=values.get("resource_group_name"),
                policy_name=values.get("policy_name"),
                firewall_name=values.get("firewall_name"),
                location=values.get("location"),
                tags=values.get("tags"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        outputs = dict(inner.outputs)
        if inner.render.dns is not None:  # azure.dns: the DNS security policy, a sibling of the rules
            dns_settings = config.azure.dns
            assert dns_settings is not None
            dns = AzureDnsPolicy(
                f"{name}-dns",
                AzureDnsPolicyArgs(
                    inner.render.dns,
                    tags=values.get("tags"),
                    # the names given as Outputs, which the render could only name by a placeholder
                    resource_group_name=values.get("resource_group_name"),
                    location=values.get("location") if dns_settings.location is None else None,
                ),
                pulumi.ResourceOptions(parent=self),
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
            name,
            AwsNetworkFirewallRulesArgs(plan=plan, config=config.aws, tags=values.get("tags")),
            opts=pulumi.ResourceOptions(parent=self),
        )
        outputs = dict(inner.outputs)
        if inner.render.dns is not None:  # aws.dns: Route 53 Resolver DNS Firewall, a sibling of the rule groups
            dns = AwsDnsFirewall(
                f"{name}-dns",
                AwsDnsFirewallArgs(inner.render.dns, tags=values.get("tags")),
                pulumi.ResourceOptions(parent=self),
            )
            outputs["dns"] = pulumi.Output.from_input(dns.outputs)
        _publish(self, plan, outputs)


COMPONENTS: list[type[pulumi.ComponentResource]] = [AzureEgressRules, AwsEgressRules]


def version() -> str:
    """The schema's version: the package's (pyproject.toml), so ``pulumi package add <repo>@v<version>`` generates an
    SDK of that version."""
    return package_version()


def main() -> None:
    """Host the components (blocks, serving the engine): what the plugin's ``__main__.py`` runs."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(components=COMPONENTS, name=PACKAGE, version=version())


if __name__ == "__main__":
    main()
