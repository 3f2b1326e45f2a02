"""The AWS settings of a stack: ``endpoint-firewall:aws`` (rule order, FQDN mode, capacity, quotas, the firewall
policy, DNS, onDelete).
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from ..planning.address_rules import AddressRules
from .base import ConfigModel, OnDelete
from .dns_config import AwsDnsConfig


class RuleOrder(StrEnum):
    DEFAULT_ACTION_ORDER = "DEFAULT_ACTION_ORDER"
    STRICT_ORDER = "STRICT_ORDER"


class FqdnMode(StrEnum):
    DOMAIN_LIST = "domain-list"  # AWS generated domain-list rules (.x.com also matches x.com, any port)
    EXACT = "exact"  # Suricata rules: exact ports, *.x.com never matches x.com


class AwsLimits(ConfigModel):
    """Defaults from AWS Network Firewall quotas; every number is configurable."""

    capacity_max: int = Field(30_000, description="capacity of one rule group: a larger one is sharded (-2, -3, ...)")
    rules_string_max_bytes: int = Field(
        2_000_000, description="size of one group's Suricata rules string: a larger one is sharded"
    )
    rule_max_chars: int = Field(
        8_192, description="length of one Suricata rule with its variables expanded: an IP set past it is split"
    )
    policy_capacity: int = Field(
        30_000,
        ge=1,
        description=(
            "stateful capacity of all groups of one firewall policy (AWS quota 'Maximum number of stateful rules per "
            "firewall policy', 30,000 by default, adjustable in Service Quotas): set it to the granted value"
        ),
    )
    stateful_groups_per_policy: int = Field(
        20,
        ge=1,
        description=(
            "stateful rule groups one firewall policy references (AWS quota, 20, not adjustable): a render that needs "
            "more fails"
        ),
    )


# AWS's stateful default actions, as AWS's own service model (botocore, FirewallPolicy.StatefulDefaultActions)
# documents them. A policy takes at most one drop and one alert action; the "established" families
# (established, established_app_layer, established_app_layer_to_server) cannot be mixed (CreateFirewallPolicy
# answers "StatefulDefaultActions cannot exist together"); the strict ones sit next to any family.
STATEFUL_DEFAULT_ACTIONS = (
    "aws:drop_strict",
    "aws:drop_established",
    "aws:drop_established_app_layer",
    "aws:drop_established_app_layer_to_server",
    "aws:alert_strict",
    "aws:alert_established",
    "aws:alert_established_app_layer",
    "aws:alert_established_app_layer_to_server",
)
# What a policy created here uses, and what a STRICT_ORDER stack assumes of a policy managed elsewhere:
# established connections are dropped once their application layer is known (a ClientHello or HTTP request
# that spans several TCP segments is reassembled before the default action applies).
DEFAULT_STATEFUL_ACTIONS = ("aws:drop_established_app_layer", "aws:alert_established_app_layer")
# Group roles of a render (``rules``, ``rules-2``, ``http-host``, ``tls-sni-3``...): the keys of ``capacity``.
AWS_GROUP_ROLE = r"^(rules|http-host|tls-sni|http-tls)(-[1-9][0-9]*)?$"


def stateful_action_family(action: str) -> str:
    """``strict``, ``established``, ``established_app_layer`` or ``established_app_layer_to_server``."""
    return action.split(":", 1)[-1].split("_", 1)[-1]


class AwsPolicyConfig(ConfigModel):
    name: str = Field(
        pattern=r"^[a-zA-Z0-9-]{1,121}$",
        description=(
            "the policy's name; in STRICT_ORDER its physical name gets a short hash of the rule order appended, "
            "so changing ruleOrder (which AWS can only do by replacing the policy) never collides"
        ),
    )
    stateful_default_actions: tuple[str, ...] = Field(
        DEFAULT_STATEFUL_ACTIONS,
        description=(
            "STRICT_ORDER: what the policy does with traffic no rule decides; at most one drop and one alert action "
            "of one family among AWS's eight (aws:drop_strict, aws:drop_established, ...)"
        ),
    )
    allow_alert_only: bool = Field(
        False,
        description=(
            "accept STRICT_ORDER default actions that drop nothing (monitoring only): traffic no rule drops passes"
        ),
    )

    @field_validator("stateful_default_actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if a not in STATEFUL_DEFAULT_ACTIONS]
        if unknown:
            raise ValueError(
                f"unknown stateful default action {unknown[0]!r}; AWS accepts {', '.join(STATEFUL_DEFAULT_ACTIONS)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("an action is listed twice")
        for kind in ("drop", "alert"):
            chosen = [a for a in value if a.startswith(f"aws:{kind}_")]
            if len(chosen) > 1:
                raise ValueError(f"at most one {kind} action, not {', '.join(chosen)}")
        families = sorted({stateful_action_family(a) for a in value} - {"strict"})
        if len(families) > 1:
            raise ValueError(
                f"AWS refuses to mix the {' and '.join(families)} default actions "
                f"({', '.join(value)}): choose one family"
            )
        return value

    @property
    def drop_action(self) -> str | None:
        return next((a for a in self.stateful_default_actions if a.startswith("aws:drop_")), None)


class AwsOnDelete(ConfigModel):
    policy: OnDelete = Field(
        OnDelete.PROTECT,
        description=(
            "the firewall policy of firewallPolicy: protect (default): a change that replaces it (ruleOrder) or "
            "removes it fails in preview, since the firewall that uses it is outside this stack; retain keeps the "
            "old policy (and its groups) for the firewall to move off; delete. Refused without firewallPolicy (no "
            "policy to act on)"
        ),
    )
    groups: OnDelete | None = Field(
        None,
        description=(
            "the rule groups: default delete when this stack's policy references them (the policy moves to a "
            "replacement before the old group is deleted), retain when the policy is outside the stack or retained "
            "(the old group stays referenced and working until that policy is moved; the outputs say how)"
        ),
    )


class AwsConfig(ConfigModel):
    enabled: bool = Field(True, description="false: the stack keeps these settings but deploys nothing on AWS")
    name_prefix: str = Field(
        "epfw",
        pattern=r"^[a-zA-Z0-9-]{1,40}$",
        description="start of every rule group name (<namePrefix>-<role>-<hash>)",
    )
    rule_order: RuleOrder = Field(
        RuleOrder.DEFAULT_ACTION_ORDER,
        description=(
            "the policy's stateful rule order: DEFAULT_ACTION_ORDER (every pass before any drop) or STRICT_ORDER "
            "(groups by priority, first match; the policy's default actions are the deny)"
        ),
    )
    fqdn_mode: FqdnMode = Field(
        FqdnMode.DOMAIN_LIST,
        description=(
            "domain-list: names on http:80, https:443, tls:443 as AWS domain lists (.x.com also matches x.com, any "
            "port: reported as widened); exact: Suricata rules (exact ports, *.x.com never matches x.com)"
        ),
    )
    capacity_headroom: float = Field(0.5, ge=0, le=10, description="extra capacity as a fraction of what is used")
    capacity_minimum: int = Field(100, ge=1, description="the least capacity a rule group gets")
    capacity: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "pinned capacity per group role (rules, http-tls, tls-sni-2, ...): a pinned group keeps its capacity and "
            "name while what it uses fits; the render fails when it no longer fits (raise the pin: a replacement)"
        ),
    )
    base_sid: int = Field(
        1_000_000, ge=1, le=3_999_000_000, description="first Suricata rule id (sids are stable per rule)"
    )
    firewall_policy: AwsPolicyConfig | None = Field(
        None, description="create a firewall policy that uses the groups; omitted: a policy managed elsewhere"
    )
    drop_ipv6_outside_home_net: bool = Field(
        True,
        description=(
            "drop IPv6 flows whose source is outside HOME_NET (devices' IPv6 when sourceRanges are IPv4 only, which no "
            "rule here would otherwise judge); false: leave such traffic to other rule groups of the policy"
        ),
    )
    limits: AwsLimits = Field(AwsLimits(), description="AWS Network Firewall's quotas")
    dns: AwsDnsConfig | None = Field(None, description="Route 53 Resolver DNS Firewall (docs/dns.md)")
    # issue 17: how much an address rule carries, and flows started outside HOME_NET (docs/address-rules.md)
    address_rules: AddressRules = Field(
        AddressRules.NAMES_ONLY,
        description=(
            "names-only (default): addresses of entries whose names are deployed are left to the name rules (which match "
            "the name at any address; summary.json lists them under aws.addressRules.leftToNames), the others as "
            "protocol; protocol: every address carries its entry's protocol (http: an HTTP request, https/tls: a TLS "
            "ClientHello, any name); tcp: any TCP/UDP payload on the ports"
        ),
    )
    drop_inbound: bool = Field(
        True,
        description=(
            "drop flows started outside HOME_NET towards it (TCP, UDP, ICMP, any IP protocol) at their first packet; "
            "peers of peer-to-peer entries keep their services; false: leave such flows to other rule groups"
        ),
    )
    on_delete: AwsOnDelete = Field(
        AwsOnDelete(), description="what Pulumi does when a rule group or the policy leaves the stack or is replaced"
    )

    @property
    def groups_on_delete(self) -> OnDelete:
        """``onDelete.groups``, else delete when this stack's own policy moves to a replacement first, else retain."""
        if self.on_delete.groups is not None:
            return self.on_delete.groups
        owned = self.firewall_policy is not None and self.on_delete.policy is not OnDelete.RETAIN
        return OnDelete.DELETE if owned else OnDelete.RETAIN

    @model_validator(mode="after")
    def _aws(self) -> AwsConfig:
        for role, pinned in self.capacity.items():
            if not re.match(AWS_GROUP_ROLE, role):
                raise ValueError(
                    f"capacity: {role!r} is not a group role (rules, http-host, tls-sni, http-tls, "
                    "optionally with a shard suffix such as -2)"
                )
            if not 1 <= pinned <= self.limits.capacity_max:
                raise ValueError(
                    f"capacity: {role} {pinned} is outside 1..limits.capacityMax ({self.limits.capacity_max})"
                )
        policy = self.firewall_policy
        if (
            policy
            and self.rule_order is RuleOrder.STRICT_ORDER
            and policy.drop_action is None
            and not policy.allow_alert_only
        ):
            raise ValueError(
                f"firewallPolicy.statefulDefaultActions {list(policy.stateful_default_actions)} drop nothing: in "
                "STRICT_ORDER the policy would pass everything no rule drops. Use aws:drop_established_app_layer, "
                "or set firewallPolicy.allowAlertOnly: true for a monitoring-only policy"
            )
        return self


def aws_policy_delete_problem(config: AwsConfig) -> str | None:
    """Why ``onDelete.policy``, when given, acts on nothing (the stack manages no firewall policy), else None."""
    if config.firewall_policy is not None or "policy" not in config.on_delete.model_fields_set:
        return None
    return (
        "onDelete.policy has no policy to act on: this stack manages no firewall policy (its groups go into a policy "
        "outside the stack); set firewallPolicy or remove it"
    )


def aws_groups_delete_problem(config: AwsConfig) -> str | None:
    """Why ``onDelete.groups: delete`` would half-apply in a stack (its policy outside the stack, or retained), else
    None. Checked for stack files only: a program that holds the policy itself and references the groups' ARNs may
    choose ``delete`` for the component."""
    if config.firewall_policy is not None and config.on_delete.policy is not OnDelete.RETAIN:
        return None
    held_by = (
        "the firewall policy outside this stack"
        if config.firewall_policy is None
        else "the old policy, which onDelete.policy: retain keeps"
    )
    return (
        f"onDelete.groups: delete cannot work here: a replaced or removed group is still referenced by {held_by}, and "
        "AWS refuses to delete a group in use, after its replacement was created (a half-applied update). Use retain "
        "(the default) or protect"
    )
