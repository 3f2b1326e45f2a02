"""A consumer stack: its own two-entry catalogue -> plan -> endpoint-firewall's Azure and AWS components.

Everything comes from the installed package under its one import name, ``endpoint_firewall``. The rules go into a
resource group this stack creates: its ``name`` (an Output, known once the group exists) is passed to the Azure
component, which passes it through to the policy, the IP Groups and the rule collection groups.
"""

from pathlib import Path

import pulumi
import pulumi_azure_native.resources as resources

from endpoint_firewall.components.aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs
from endpoint_firewall.components.azure_firewall import AzureFirewallRules, AzureFirewallRulesArgs
from endpoint_firewall.config.aws_config import AwsConfig
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection

HERE = Path(__file__).resolve().parent

config = pulumi.Config()
source_ranges = config.require_object("sourceRanges")
tags = config.get_object("tags") or {}
catalogue = load_catalogue([HERE / "catalogue.yaml"])
plan = build_plan(catalogue, Selection(), source_ranges)

rg = resources.ResourceGroup("lob-rg", resource_group_name=config.require("resourceGroupName"), tags=tags)
azure = AzureFirewallRules(
    "lob-azure",
    AzureFirewallRulesArgs(
        plan=plan,
        config=AzureConfig.model_validate(config.require_object("azure")),
        resource_group_name=rg.name,
        tags=tags,
    ),
)
aws = AwsNetworkFirewallRules(
    "lob-aws",
    AwsNetworkFirewallRulesArgs(plan=plan, config=AwsConfig.model_validate(config.require_object("aws")), tags=tags),
)

pulumi.export("catalogueDigest", plan.digest)
pulumi.export("resourceGroupName", rg.name)
pulumi.export("azure", azure.outputs)
pulumi.export("aws", aws.outputs)
