"""A consumer stack: its own two-entry catalogue -> plan -> endpoint-firewall's Azure and AWS components.

Everything comes from the installed package under its one import name, ``endpoint_firewall``.
"""

from pathlib import Path

import pulumi

from endpoint_firewall.components.aws_network_firewall import AwsNetworkFirewallRules, AwsNetworkFirewallRulesArgs
from endpoint_firewall.components.azure_firewall import AzureFirewallRules, AzureFirewallRulesArgs
from endpoint_firewall.config.stack_config import AwsConfig, AzureConfig
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection

HERE = Path(__file__).resolve().parent

config = pulumi.Config()
source_ranges = config.require_object("sourceRanges")
catalogue = load_catalogue([HERE / "catalogue.yaml"])
plan = build_plan(catalogue, Selection(), source_ranges)

azure = AzureFirewallRules(
    "lob-azure", AzureFirewallRulesArgs(plan=plan, config=AzureConfig.model_validate(config.require_object("azure")))
)
aws = AwsNetworkFirewallRules(
    "lob-aws", AwsNetworkFirewallRulesArgs(plan=plan, config=AwsConfig.model_validate(config.require_object("aws")))
)

pulumi.export("catalogueDigest", plan.digest)
pulumi.export("azure", azure.outputs)
pulumi.export("aws", aws.outputs)
