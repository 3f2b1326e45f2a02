"""The Azure settings of a stack: ``endpoint-firewall:azure`` (target, names, tier, limits, DNS, onDelete).

The limits' defaults name Microsoft's pages (docs/azure-limits.md); what each tier can take is
:mod:`.azure_sku`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..planning.address_rules import AddressRules
from .azure_sku import effective_tier, tier_problems
from .base import ConfigModel, OnDelete
from .dns_config import AzureDnsConfig


class AzureTarget(StrEnum):
    POLICY = "policy"  # FirewallPolicyRuleCollectionGroups on a Firewall Policy
    CLASSIC = "classic"  # rule collections on an AzureFirewall resource


SkuTier = Literal["Standard", "Premium", "Basic"]


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
            "Group and an FQDN count as one address (the IP Group: the 2023 page, and for 2026-10 the Architecture "
            "Center's hub-spoke Virtual WAN article; the 2026 limits page does not say)"
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
