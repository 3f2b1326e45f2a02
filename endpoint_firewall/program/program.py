"""The Pulumi program: stack config -> catalogue selection -> plan -> the Azure and AWS components.

``__main__.py`` calls :func:`run`. Everything that can fail on bad input (config, catalogue, plan,
rendering) fails before the first resource is registered.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from ..config.azure_config import AzureTarget
from ..config.stack_config import NAMESPACE, ConfigError, StackConfig
from ..endpoints.errors import Problem
from ..planning.rules import Plan
from .pulumi_config import read_stack_config
from .stack_plan import load_selected


def run(project_dir: Path | None = None) -> None:
    project_dir = project_dir or Path.cwd()
    stack = pulumi.get_stack()
    config = read_stack_config(stack, project_dir)
    _, plan = load_selected(config, project_dir, f"stack {stack} config")
    deploy(plan, config)


def deploy(plan: Plan, config: StackConfig) -> None:
    """Render both clouds first, so that a render error on either registers nothing; then the components."""
    from ..components.aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs
    from ..components.azure_firewall import AzureFirewallRules, AzureFirewallRulesArgs
    from ..renderers.aws.render import render_aws
    from ..renderers.azure.render import render_azure

    azure_config = config.enabled_cloud("azure")
    if azure_config and azure_config.target is AzureTarget.CLASSIC and not azure_config.firewall_args:
        raise ConfigError(
            [
                Problem(
                    "stack config",
                    1,
                    f"{NAMESPACE}:azure.firewallArgs",
                    "target classic deploys the AzureFirewall resource itself (classic rule "
                    "collections are its properties): give the rest of its definition "
                    "(location, sku, ip_configurations, ...)",
                )
            ]
        )
    aws_config = config.enabled_cloud("aws")
    azure_render = render_azure(plan, azure_config) if azure_config else None
    aws_render = render_aws(plan, aws_config) if aws_config else None

    pulumi.export("catalogueDigest", plan.digest)
    pulumi.export("selectedEntries", len(plan.selected_entries))
    pulumi.export(
        "skipped", [{"entry": s.entry, "destination": s.destination, "reason": s.reason} for s in plan.skipped]
    )
    if azure_config:
        azure = AzureFirewallRules(
            "azure",
            AzureFirewallRulesArgs(
                plan=plan,
                config=azure_config,
                firewall_args=azure_config.firewall_args,
                render=azure_render,
                tags=config.tags or None,
            ),
        )
        pulumi.export("azure", azure.outputs)
        if azure_render is not None and azure_render.dns is not None:
            from ..components.azure_dns_policy import AzureDnsPolicy, AzureDnsPolicyArgs

            pulumi.export(
                "azureDns",
                AzureDnsPolicy("azure-dns", AzureDnsPolicyArgs(azure_render.dns, tags=config.tags or None)).outputs,
            )
    if aws_config:
        aws = AwsNetworkFirewallRules(
            "aws",
            AwsNetworkFirewallRulesArgs(plan=plan, config=aws_config, render=aws_render, tags=config.tags or None),
        )
        pulumi.export("aws", aws.outputs)
        if aws_render is not None and aws_render.dns is not None:
            from ..components.aws_dns_firewall import AwsDnsFirewall, AwsDnsFirewallArgs

            pulumi.export(
                "awsDns",
                AwsDnsFirewall("aws-dns", AwsDnsFirewallArgs(aws_render.dns, tags=config.tags or None)).outputs,
            )
