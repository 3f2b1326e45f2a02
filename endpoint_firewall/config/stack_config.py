"""The stack configuration: the ``endpoint-firewall:`` namespace of ``stacks/Pulumi.<stack>.yaml``.

One pydantic model serves both the Pulumi program (values from ``pulumi.Config``) and ``epfw`` (values
read from the stack file with line numbers). Keys are camelCase as in Pulumi config files; unknown keys
are refused with the key named, before anything is registered.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, overload

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from ..endpoints import names, yaml_lines
from ..endpoints.errors import CatalogueError, EpfwError, Problem
from ..endpoints.located import located_problems
from ..endpoints.models import located
from ..planning.address_rules import AddressRules
from ..planning.selection import Selection, SharedTenantMode
from ..renderers.azure_sku import effective_tier, tier_problems
from .dns_config import AwsDnsConfig, AzureDnsConfig
from .stack_dir import stack_config_dir

NAMESPACE = "endpoint-firewall"


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


def _networks(values: Sequence[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        net = names.normalise_network(value)
        if net in names.ANY_NETWORKS:
            raise ValueError(f"{value!r} is every address; name the real ranges")
        out.append(net)
    return tuple(out)


def _tenant_instance(value: str) -> str:
    """One instance's host name, checked as the catalogue checks names (``names.normalise_fqdn``)."""
    if "*" in value:
        raise ValueError(f"{value!r}: name one instance, not a wildcard (the catalogue has the wildcards)")
    pasted = names.split_pasted(value)
    if pasted:
        raise ValueError(f"{value!r} is a {pasted[0]}; write the host name {pasted[1]!r}")
    return names.normalise_fqdn(value)


TenantInstance = Annotated[str, AfterValidator(_tenant_instance)]


class SelectionConfig(ConfigModel):
    service_areas: tuple[str, ...] | None = Field(None, description="service area ids; omitted: all")
    regions: tuple[str, ...] | None = Field(
        None,
        description=(
            "region tags; omitted: every region but us-gov, which a stack must name; entries without regions are "
            "always kept"
        ),
    )
    include_optional: bool = Field(
        False, description="also deploy entries marked required: false (default: they are left out)"
    )
    entries: tuple[str, ...] | None = Field(None, description="explicit entry ids; omitted: all")
    # Shared-tenant wildcards (*.webpubsub.azure.com: anyone can create an instance there), see
    # docs/shared-tenant-wildcards.md. Whether each instance sits under a selected wildcard needs the catalogue:
    # planning.tenant_wildcards.instance_problems, run where the catalogue is loaded (program/stack_plan.py).
    shared_tenant_wildcards: SharedTenantMode = Field(
        SharedTenantMode.EXACT,
        description=(
            "exact: deploy the exact names an entry lists under a shared-tenant wildcard (and tenantInstances), "
            "reporting the wildcard as left out; allow: deploy the wildcard too, reported as open to any tenant"
        ),
    )
    tenant_instances: tuple[TenantInstance, ...] = Field(
        (),
        description=(
            "your tenant's own instances under the selected entries' shared-tenant wildcards (e.g. your Remote Help "
            "web pubsub), deployed with the wildcard's services and entries"
        ),
    )

    @field_validator("tenant_instances")
    @classmethod
    def _instances_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return value

    def to_selection(self) -> Selection:
        as_set = lambda v: None if v is None else frozenset(v)  # noqa: E731
        return Selection(
            service_areas=as_set(self.service_areas),
            regions=as_set(self.regions),
            include_optional=self.include_optional,
            entry_ids=as_set(self.entries),
            shared_tenant_wildcards=self.shared_tenant_wildcards,
            tenant_instances=self.tenant_instances,
        )


class AzureTarget(StrEnum):
    POLICY = "policy"  # FirewallPolicyRuleCollectionGroups on a Firewall Policy
    CLASSIC = "classic"  # rule collections on an AzureFirewall resource


SkuTier = Literal["Standard", "Premium", "Basic"]


# --- Deployment safety and composition (issue 18): what Pulumi does when a resource leaves the stack or is
# replaced, the names a component may take as inputs, and tags. docs/deploying.md explains the choices.


class OnDelete(StrEnum):
    """What Pulumi does with a resource that leaves the stack (or the old one of a replacement)."""

    DELETE = "delete"  # Pulumi deletes it
    RETAIN = "retain"  # Pulumi forgets it and it stays in the cloud (resource option retainOnDelete)
    PROTECT = "protect"  # preview and up refuse to delete or replace it (resource option protect), naming it


class AzureOnDelete(ConfigModel):
    policy: OnDelete = Field(
        OnDelete.RETAIN,
        description=(
            "the Firewall Policy of createPolicy (or the AzureFirewall of target classic): retain (default) keeps it "
            "when createPolicy is removed or the stack destroyed, so no policy, and no other team's groups on it, is "
            "deleted by a config change; protect refuses; delete deletes it with every group on it"
        ),
    )
    groups: OnDelete | None = Field(
        None,
        description=(
            "the rule collection groups: default protect on a policy the stack does not create (removing a service "
            "area or renaming fails in preview, naming the group, until it is unprotected), delete on its own policy"
        ),
    )


class AwsOnDelete(ConfigModel):
    policy: OnDelete = Field(
        OnDelete.PROTECT,
        description=(
            "the firewall policy of firewallPolicy: protect (default): a change that replaces it (ruleOrder) or "
            "removes it fails in preview, since the firewall that uses it is outside this stack; retain keeps the "
            "old policy (and its groups) for the firewall to move off; delete"
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


AZURE_NAMES = ("resourceGroupName", "policyName", "firewallName")


def missing_azure_names(config: AzureConfig, given: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``(key, message)`` for each name the Azure rules need that neither the config nor the component's inputs
    (``given``, among :data:`AZURE_NAMES`) give."""
    has = {
        "resourceGroupName": config.resource_group_name is not None,
        "policyName": config.policy_name is not None,
        "firewallName": config.firewall_name is not None,
    } | {name: True for name in given}
    out = []
    if not has["resourceGroupName"]:
        out.append(("resourceGroupName", "missing required key (the resource group of the rules)"))
    if config.target is AzureTarget.POLICY and not (has["policyName"] or config.create_policy):
        out.append(("policyName", "target policy needs policyName (an existing policy) or createPolicy"))
    if config.target is AzureTarget.POLICY and config.create_policy and not has["policyName"]:
        out.append(("policyName", "createPolicy needs policyName (the name of the policy to create)"))
    if config.target is AzureTarget.CLASSIC and not has["firewallName"]:
        out.append(("firewallName", "target classic needs firewallName"))
    return out


# Tags go to both clouds, so they must satisfy both: AWS Network Firewall's model (botocore 1.44, shapes TagKey
# 1..128, TagValue 0..256, TagList at most 200) and Azure's tag limitations (learn.microsoft.com/azure/
# azure-resource-manager/management/tag-resources#limitations: tag names up to 512 and values up to 256
# characters, names without < > % & \ ? /, at most 50 tags per resource); AWS reserves the prefix aws:
# (docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html, "Tag naming limits and requirements").
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_MAX = 50
TAG_KEY_FORBIDDEN = "<>%&\\?/"


def check_tags(tags: dict[str, str]) -> None:
    """Raise ValueError naming the first tag that one of the two clouds would refuse."""
    if len(tags) > TAGS_MAX:
        raise ValueError(f"{len(tags)} tags; Azure takes at most {TAGS_MAX} per resource")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise ValueError(f"tag {key!r}: a key has 1 to {TAG_KEY_MAX} characters (AWS)")
        if len(value) > TAG_VALUE_MAX:
            raise ValueError(f"tag {key!r}: the value has {len(value)} characters, at most {TAG_VALUE_MAX}")
        bad = sorted(set(key) & set(TAG_KEY_FORBIDDEN))
        if bad:
            raise ValueError(f"tag {key!r}: Azure refuses {' '.join(bad)} in tag names")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag {key!r}: the prefix aws: is reserved by AWS")


# Microsoft's Azure Firewall limits page, the versions the numbers below come from (MicrosoftDocs/azure-docs
# ``includes/firewall-limits.md``, shown at learn.microsoft.com/azure/azure-resource-manager/management/
# azure-subscription-service-limits#azure-firewall-limits). docs/azure-limits.md quotes both and says what changed.
LIMITS_PAGE_2026_10 = "includes/firewall-limits.md, ms.date 10/14/2026"
LIMITS_PAGE_2023 = "includes/firewall-limits.md, ms.date 10/10/2023"
PairsFormula = Literal["2026-10", "2023"]


class AzureLimits(ConfigModel):
    """Defaults from Microsoft's documentation (Azure Firewall limits); every number is configurable. Each default
    names its source: the limits page of ms.date 10/14/2026 unless it says otherwise."""

    # ARM REST spec firewallPolicy.json (2024-05-01): group priority 100..65000
    priority_min: int = Field(100, description="lowest priority a rule collection group or collection may take")
    priority_max: int = Field(65000, description="highest priority a rule collection group or collection may take")
    # "Total size of rules within a single Rule Collection Group": "2 MB for Firewall policies created after July
    # 2022" (1 MB before: profile pre-2022-07); the same on the pages of 2023 and 2026-10.
    group_max_bytes: int = Field(
        2_000_000, description="size of one rule collection group (the limitsProfile sets 1 MB for older policies)"
    )
    group_size_margin: float = Field(
        0.05,
        ge=0,
        lt=1,
        description=(
            "fraction of groupMaxBytes kept free: a group's size is measured on our compact JSON, and Microsoft "
            "publishes no exact measure of how it counts a group's size"
        ),
    )
    # "Rule limits: 20,000 unique source-destination combinations in network rules" (2026-10; the 2023 page:
    # "20,000 unique source/destinations in network rules"), counted by networkPairsFormula.
    network_pairs_max: int = Field(
        20_000,
        description=(
            "network-rule combinations of the policy, counted by networkPairsFormula: address sets move into IP "
            "Groups until the stack fits"
        ),
    )
    network_pairs_formula: PairsFormula = Field(
        "2026-10",
        description=(
            "how network-rule combinations are counted, per rule and summed. 2026-10 (limits page ms.date 10/14/2026): "
            "IP protocols x source addresses x destination addresses x ceil(destination ports / "
            "networkPairsPortsPerUnit); 2023 (ms.date 10/10/2023): source addresses x destination addresses. An IP "
            "Group and an FQDN count as one address"
        ),
    )
    # 2026-10: "(number of destination ports ÷ 14, rounded up to the nearest whole number)".
    network_pairs_ports_per_unit: int = Field(
        14, ge=1, description="destination ports that count as one unit in the 2026-10 formula"
    )
    # 2023 page, "FQDNs in network rules": "do not exceed more than 1000 FQDNs across all network rules per firewall".
    network_fqdns_warn: int = Field(
        1_000, description="FQDNs in network rules past which the render warns (each is resolved by DNS proxy)"
    )
    # "Number of Rule Collection Groups in a firewall policy": "90 for Firewall policies created after July 2022"
    # (2026-10; 60 on the 2023 page: profile 2023; 50 before July 2022: profile pre-2022-07).
    groups_per_policy_max: int = Field(
        90, description="rule collection groups per policy (the limitsProfile sets 50 or 60 for older policies/pages)"
    )
    # 2023 page, "IP addresses in IP Groups": "Maximum 5000 individual IP addresses or IP prefixes per each IP Group"
    # and "Maximum of 200 IP Groups per firewall" (Azure Updates, 2025-10: 600 IP Groups per Firewall Policy; a
    # firewall's 200 stays the bound here). The 2026-10 page's IP Group row could not be read here: see
    # docs/azure-limits.md.
    ip_group_max_addresses: int = Field(5_000, description="addresses one IP Group holds")
    ip_groups_max: int = Field(200, description="IP Groups the render may create")


# ``limitsProfile``: which page version and which policy age the defaults follow. Keys set in ``limits`` still win.
# current: the newest page this version knows (2026-10), for a policy created after July 2022.
# pre-2022-07: the same page, for a policy created before July 2022 ("1 MB for Firewall policies created before
# July 2022", "50 for Firewall policies created before July 2022": both pages).
# 2023: the page of ms.date 10/10/2023, policy created after July 2022: 60 groups, sources x destinations per rule.
LIMITS_PROFILES: dict[str, dict[str, Any]] = {
    "current": {},
    "2026-10": {},
    "pre-2022-07": {"group_max_bytes": 1_000_000, "groups_per_policy_max": 50},
    "2023": {"groups_per_policy_max": 60, "network_pairs_formula": "2023"},
}
LimitsProfile = Literal["current", "2026-10", "pre-2022-07", "2023"]
FIREWALL_NAME_MAX = 50


class NewPolicy(ConfigModel):
    location: str = Field(description="Azure region of the policy (and, by default, of the IP Groups)")
    sku_tier: SkuTier = Field("Standard", description="the policy's tier: Standard, Premium or Basic")


class AzureConfig(ConfigModel):
    enabled: bool = Field(True, description="false: the stack keeps these settings but deploys nothing on Azure")
    target: AzureTarget = Field(
        AzureTarget.POLICY,
        description=(
            "policy: rule collection groups on a Firewall Policy; classic: rule collections on an AzureFirewall "
            "(Standard tier only)"
        ),
    )
    resource_group_name: str | None = Field(
        None,
        min_length=1,
        description="the resource group of the policy (or classic firewall) and the IP Groups; required in a stack "
        "file, a component may take it as an input instead (AzureFirewallRulesArgs.resource_group_name)",
    )
    policy_name: str | None = Field(None, description="existing Firewall Policy (target policy)")
    create_policy: NewPolicy | None = Field(None, description="create the policy instead of using an existing one")
    sku_tier: SkuTier | None = Field(
        None,
        description=(
            "the firewall's and policy's tier (default Standard, or createPolicy.skuTier): decides DNS proxy, FQDNs in "
            "network rules and the classic target"
        ),
    )
    firewall_name: str | None = Field(
        None, description="the AzureFirewall whose classic rules are managed (target classic); at most 50 characters"
    )
    firewall_args: dict[str, Any] | None = Field(
        None,
        description="target classic: the rest of the AzureFirewall's definition (location, sku, "
        "ip_configurations, ...) as the SDK's snake_case arguments; the component manages the "
        "firewall resource itself, since classic rule collections are its properties",
    )
    location: str | None = Field(
        None,
        description=(
            "Azure region of the IP Groups (default createPolicy.location, or firewallArgs.location for target "
            "classic); required when IP Groups are rendered on an existing policy"
        ),
    )
    dns_proxy: bool = Field(False, description="DNS proxy is on: FQDNs may be used in network rules")
    ipv6: Literal["preview"] | None = Field(
        None,
        description=(
            "preview: render IPv6 destinations into network rules (Azure Firewall dual stack, preview: Firewall Policy "
            "only, network rules only, no IP Groups); omitted: IPv4 only"
        ),
    )
    ip_group_threshold: int = Field(50, ge=1, description="address sets larger than this go into IP Groups")
    name_prefix: str = Field(
        "epfw",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$",
        description="start of every rule collection group and IP Group name (<namePrefix>-<area>)",
    )
    limits_profile: LimitsProfile = Field(
        "current",
        description=(
            "the limits' defaults: current (= 2026-10, Microsoft's limits page of ms.date 10/14/2026, a policy created "
            "after July 2022: 2 MB per group, 90 groups, combinations counted per protocol and per 14 ports); "
            "pre-2022-07 (the same page, a policy created before July 2022: 1 MB per group, 50 groups); 2023 (the "
            "page of ms.date 10/10/2023: 60 groups, sources x destinations per rule)"
        ),
    )
    limits: AzureLimits = Field(
        AzureLimits(), description="Azure Firewall's limits; a key set here wins over limitsProfile"
    )
    dns: AzureDnsConfig | None = Field(None, description="the DNS security policy (docs/dns.md)")
    # issue 17: how much an address rule carries (docs/address-rules.md)
    address_rules: AddressRules = Field(
        AddressRules.NAMES_ONLY,
        description=(
            "names-only (default): addresses of entries that also list names are left to their application rules "
            "(Azure resolves the name itself and ignores the client's destination IP; summary.json lists them under "
            "azure.addressRules.leftToNames); tcp: every listed address as a TCP/UDP network rule. protocol is "
            "refused: a network rule cannot require TLS or HTTP"
        ),
    )

    @field_validator("address_rules")
    @classmethod
    def _address_rules(cls, value: AddressRules) -> AddressRules:
        if value is AddressRules.PROTOCOL:
            raise ValueError(
                "protocol is not possible on Azure: network rules match TCP/UDP and ports only and cannot require a "
                "TLS ClientHello or an HTTP request, and application rules match names, not addresses; use "
                "names-only (the default) or tcp"
            )
        return value

    on_delete: AzureOnDelete = Field(
        AzureOnDelete(), description="what Pulumi does when the policy or a group leaves the stack or is replaced"
    )

    @model_validator(mode="before")
    @classmethod
    def _limits_profile(cls, data: Any) -> Any:
        """Profile defaults under the keys ``limits`` sets explicitly."""
        if not isinstance(data, dict):
            return data
        name: Any = data.get(
            "limitsProfile", data.get("limits_profile", "current")
        )  # unknown: the Literal field says so
        profile = LIMITS_PROFILES.get(name, {})
        if not profile:
            return data
        limits = data.get("limits") or {}
        if isinstance(limits, AzureLimits):
            explicit: dict[Any, Any] = {k: getattr(limits, k) for k in limits.model_fields_set}
        elif isinstance(limits, dict):
            by_alias: dict[str, str] = {f.alias or n: n for n, f in AzureLimits.model_fields.items()}
            explicit = {by_alias.get(k, k): v for k, v in limits.items()}
        else:
            return data  # not a mapping: the field's own validation says so
        return {**data, "limits": {**profile, **explicit}}

    @property
    def tier(self) -> str:
        """The effective SKU tier: ``skuTier``, else ``createPolicy.skuTier``, else Standard."""
        return effective_tier(self)

    @property
    def ip_group_location(self) -> str | None:
        """``location``, else the created policy's, else (target classic) the firewall's."""
        fw_location = (self.firewall_args or {}).get("location") if self.target is AzureTarget.CLASSIC else None
        return self.location or (self.create_policy.location if self.create_policy else None) or fw_location

    @property
    def groups_on_delete(self) -> OnDelete:
        """``onDelete.groups``, else protect on a policy the stack does not create and delete on its own."""
        if self.on_delete.groups is not None:
            return self.on_delete.groups
        return OnDelete.DELETE if self.create_policy else OnDelete.PROTECT

    @model_validator(mode="after")
    def _target(self) -> AzureConfig:
        # The names (resourceGroupName, policyName, firewallName) may come as component inputs: whether they are
        # given is checked where that is known, by missing_azure_names (stack files, the components).
        if self.firewall_name and len(self.firewall_name) > FIREWALL_NAME_MAX:
            raise ValueError(
                f"firewallName {self.firewall_name!r} is {len(self.firewall_name)} characters; Azure "
                f"Firewall names are at most {FIREWALL_NAME_MAX}"
            )
        problems = tier_problems(self)
        if problems:
            raise ValueError(problems[0])
        if self.dns and self.dns.enabled and not (self.dns.location or self.ip_group_location):
            raise ValueError("dns needs location (the VNets' region), or azure.location / createPolicy.location")
        return self


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
            "names-only (default): addresses of entries that also list names are left to the name rules (which match "
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


class StackConfig(ConfigModel):
    """Everything under ``endpoint-firewall:`` in a stack file."""

    source_ranges: tuple[str, ...] = Field(
        min_length=1, description="managed-device source CIDRs: Azure sourceAddresses, AWS HOME_NET"
    )
    peer_ranges: tuple[str, ...] = Field(
        (), description="peers for peer-to-peer entries (Delivery Optimization 7680, Teredo 3544); empty: none"
    )
    catalogue: tuple[str, ...] | None = Field(None, description="catalogue files; omitted: the shipped catalogue")
    selection: SelectionConfig = Field(SelectionConfig(), description="which catalogue entries the stack deploys")
    azure: AzureConfig | None = Field(None, description="Azure Firewall settings; omitted: nothing on Azure")
    aws: AwsConfig | None = Field(None, description="AWS Network Firewall settings; omitted: nothing on AWS")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "tags on every resource that takes them, on both clouds: keys of 1 to 128 characters, without < > % & \\ ? / "
            "nor the prefix aws:, values of at most 256 characters, at most 50 tags"
        ),
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        check_tags(value)
        return value

    @model_validator(mode="after")
    def _names(self, info: ValidationInfo) -> StackConfig:
        """A stack file names what the Azure rules attach to; the cross-language component may take those names as
        inputs instead (``parse(..., given=...)``)."""
        given = (info.context or {}).get("given", frozenset())
        if self.azure is not None:
            for key, message in missing_azure_names(self.azure, given):
                raise located(("azure",) if key != "resourceGroupName" else ("azure", key), message)
        if self.aws is not None and self.aws.on_delete.groups is OnDelete.DELETE:
            problem = aws_groups_delete_problem(self.aws)
            if problem:
                raise located(("aws", "onDelete", "groups"), problem)
        return self

    @field_validator("source_ranges", "peer_ranges", mode="before")
    @classmethod
    def _nets(cls, value: Any) -> Any:
        return _networks(value) if isinstance(value, (list, tuple)) else value

    @model_validator(mode="after")
    def _some_cloud(self) -> StackConfig:
        if not (self.enabled_cloud("azure") or self.enabled_cloud("aws")):
            raise ValueError("configure at least one enabled cloud: azure or aws")
        return self

    @overload
    def enabled_cloud(self, cloud: Literal["azure"]) -> AzureConfig | None: ...
    @overload
    def enabled_cloud(self, cloud: Literal["aws"]) -> AwsConfig | None: ...
    @overload
    def enabled_cloud(self, cloud: str) -> AzureConfig | AwsConfig | None: ...

    def enabled_cloud(self, cloud: str) -> AzureConfig | AwsConfig | None:
        """The settings of ``cloud`` (``azure`` or ``aws``) when the stack deploys it: given and ``enabled``."""
        settings: AzureConfig | AwsConfig | None = getattr(self, cloud)
        return settings if settings is not None and settings.enabled else None


class ConfigError(CatalogueError):
    """Located problems in a stack's configuration."""


def parse(
    values: dict[str, Any],
    filename: str,
    lines: dict | None = None,
    line_prefix: tuple = (),
    given: frozenset[str] = frozenset(),
) -> StackConfig:
    """Validate the namespace's values (keys without the ``endpoint-firewall:`` prefix); ``given``: the Azure names
    (``resourceGroupName``, ``policyName``, ``firewallName``) a component takes as inputs instead."""
    try:
        return StackConfig.model_validate(values, context={"given": given})
    except ValidationError as err:
        raise ConfigError(
            located_problems(
                err,
                filename,
                line=lambda loc: yaml_lines.line_of(lines, line_prefix + _yaml_path(loc)) if lines else 1,
                field=lambda loc: f"{NAMESPACE}:{yaml_lines.dotted(loc)}" if loc else NAMESPACE,
                message=_message,
            )
        ) from None


def _message(item: ErrorDetails, loc: tuple) -> str:
    """Pydantic's message; the key itself is the problem's field (``endpoint-firewall:key``), so it is not
    repeated here as the catalogue loader's messages repeat it (``loader._message``)."""
    if item["type"] == "extra_forbidden":
        return "unknown key"
    if item["type"] == "missing":
        return "missing required key"
    return item["msg"].removeprefix("Value error, ")


def _yaml_path(loc: tuple) -> tuple:
    return (f"{NAMESPACE}:{loc[0]}",) + tuple(loc[1:]) if loc else ()


# Namespaces a stack file may use besides ours: the providers' own settings (``azure-native:location``,
# ``aws:region``) and Pulumi's. Any other namespace is refused: a typo of ours would be ignored silently.
PROVIDER_NAMESPACES = ("azure-native", "azure", "aws", "aws-native", "pulumi")


class NoSuchStack(EpfwError, ValueError):
    """The stack has no stack file; the message names the stacks there are."""


def stack_dir(project_dir: Path) -> Path:
    """Where the project keeps its stack files (see :func:`.stack_dir.stack_config_dir`); a malformed
    ``Pulumi.yaml`` is a located error."""
    try:
        return stack_config_dir(project_dir)
    except yaml.YAMLError:
        settings = project_dir / "Pulumi.yaml"
        try:
            yaml_lines.load(settings.read_text(encoding="utf-8"), str(settings))
        except yaml_lines.YamlProblem as err:
            raise ConfigError([err.problem]) from None
        raise


def stack_file(project_dir: Path, stack: str) -> Path:
    """The stack file of ``stack`` (whether or not it exists): ``<stackConfigDir>/Pulumi.<stack>.yaml``."""
    return stack_dir(project_dir) / f"Pulumi.{stack}.yaml"


def stack_names(folder: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


def _no_such_stack(path: Path) -> NoSuchStack:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    there = stack_names(path.parent) if path.parent.is_dir() else []
    known = f"stacks: {', '.join(there)}" if there else f"no stack files in {path.parent}"
    return NoSuchStack(f"no such stack {stack!r} ({known}; looked for {path})")


def namespace_problems(keys: Any, filename: str, lines: dict | None = None) -> list[Problem]:
    """Config keys outside our namespace and the providers' (a typo such as ``endpoint-firewal:selection``)."""
    known = (NAMESPACE, *PROVIDER_NAMESPACES)
    problems = []
    for key in keys:
        namespace, colon, name = str(key).partition(":")
        if colon and namespace in known:
            continue
        guess = difflib.get_close_matches(namespace, known, n=1, cutoff=0.6)
        hint = f"did you mean '{guess[0]}:{name}'? " if guess and colon else ""
        what = f"unknown namespace {namespace!r}" if colon else "a config key is written namespace:key"
        line = yaml_lines.line_of(lines, ("config", key)) if lines else 1
        problems.append(
            Problem(
                filename,
                line,
                str(key),
                f"{what}; {hint}this project reads {NAMESPACE}: keys, and "
                f"passes the providers' own ({', '.join(n + ':' for n in PROVIDER_NAMESPACES)})",
            )
        )
    return problems


def load_stack_file(path: Path) -> StackConfig:
    """Read ``config:`` of a stack file: our namespace is validated, keys of providers' namespaces (e.g.
    ``azure-native:location``) pass, any other namespace is refused."""
    name = str(path)
    if not path.exists():
        raise _no_such_stack(path)
    try:
        data, lines = yaml_lines.load(path.read_text(encoding="utf-8"), name)
    except yaml_lines.YamlProblem as err:
        raise ConfigError([err.problem]) from None
    config = (data or {}).get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ConfigError([Problem(name, 1, "config", "a stack file has a 'config:' mapping")])
    problems = namespace_problems(config, name, lines)
    if problems:
        raise ConfigError(problems)
    values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    return parse(values, name, lines, ("config",))
