"""The DNS layer's stack settings: ``endpoint-firewall:aws.dns`` and ``endpoint-firewall:azure.dns``.

What the layer is and why (a resolver that answers any name is a tunnel beside the firewall): docs/dns.md. Every
limit is configurable and names its source; ``extraNames`` are validated like catalogue names
(``endpoints/names.py``), so a typo fails with the stack file, line and key, and never open a shared-tenant suffix
(``endpoints/shared_tenants.py``) to every tenant.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator

from ..endpoints import names
from ..endpoints.models import located
from ..endpoints.shared_tenants import SharedTenantSuffix, is_shared_tenant_wildcard, shared_tenant_suffix
from .base import ConfigModel


class DnsMode(StrEnum):
    ALERT = "alert"  # the catch-all only logs: every name still resolves (the first step of a rollout)
    BLOCK = "block"  # the catch-all blocks: only the allowed names resolve


def _every_tenant(name: str, every_subdomain: bool) -> SharedTenantSuffix | None:
    """The shared-tenant suffix (:mod:`~endpoint_firewall.endpoints.shared_tenants`) whose instances, anyone's,
    ``name`` would resolve: a wildcard over such a suffix (``*.webpubsub.azure.com``, ``*.azure.com``), and, where a
    DNS rule matches every name below its name (``every_subdomain``: Azure), the suffix itself or a name above it
    (``blob.core.windows.net``). One instance (``contoso.webpubsub.azure.com``) is one tenant's: None."""
    if is_shared_tenant_wildcard(name):
        return shared_tenant_suffix(name)
    if every_subdomain and not name.startswith("*.") and shared_tenant_suffix(name) is None:
        return shared_tenant_suffix("*." + name)
    return None


def extra_names(values: Any, every_subdomain: bool = False) -> tuple[str, ...]:
    """``extraNames``: exact names and ``*.`` wildcards, checked like catalogue names, sorted, each once; never a name
    that resolves every tenant's instances under a shared-tenant suffix (:func:`_every_tenant`)."""
    if not isinstance(values, (list, tuple)):
        return values  # the field's type says what is wrong
    out: list[str] = []
    for index, value in enumerate(values):  # each problem is placed at its item (its line in the stack file)
        if not isinstance(value, str):
            raise located((index,), f"{value!r} is not a name")
        text = value.strip()
        if names.looks_like_address(text) and "*" not in text:
            raise located((index,), f"{value!r} is an address: the DNS layer filters names (list it in the catalogue)")
        try:
            name = names.normalise_wildcard(text) if text.startswith("*") else names.normalise_fqdn(text)
        except ValueError as err:
            raise located((index,), str(err)) from None
        if name in out:
            raise located((index,), f"{value!r} is listed twice")
        suffix = _every_tenant(name, every_subdomain)
        if suffix is not None:
            below = " (an Azure DNS rule on a name also resolves every name below it)" if "*" not in name else ""
            raise located(
                (index,),
                f"{value!r} resolves every tenant's instances{below}: {suffix.why()}. Name your own instance "
                f"({suffix.instance}); the shared-tenant suffixes are listed in endpoints/shared_tenants.py",
            )
        out.append(name)
    return tuple(sorted(out))


class AwsDnsLimits(ConfigModel):
    """Route 53 Resolver DNS Firewall limits. ``domainsPerList`` is the documented limit of one
    ``UpdateFirewallDomains`` request (botocore ``route53resolver``, ``Domains``: "There is a limit of 1000 domains
    per request"); a list is written in one request, so lists are sharded to it. The rest are AWS's default quotas for
    DNS Firewall as commonly quoted (domain lists per account and Region 1,000; domains per domain list 100,000; rules
    per rule group 100). AWS's own quotas page
    (docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html) could not be read where these defaults were
    written, so they are unconfirmed: read your account's values in Service Quotas (service ``route53resolver``) and
    set them here. What this stack alone uses is
    checked; lists and domains of other stacks count against the same quotas. Rule group associations per VPC are
    not a key: this stack makes one per VPC, and what else is associated with the VPC is not known at render time."""

    domains_per_list: int = Field(
        1000,
        ge=1,
        description=(
            "domains in one list: botocore UpdateFirewallDomains, 'There is a limit of 1000 domains per request', and "
            "each list is written in one request; larger sets are sharded into stable lists"
        ),
    )
    domain_lists_per_account: int = Field(
        1000, ge=1, description="domain lists per account and Region (default unconfirmed: check Service Quotas)"
    )
    domains_per_account: int = Field(
        100_000,
        ge=1,
        description="domains of this stack's lists together, at most (AWS quotes 100,000 per list; the total is the stricter check; default unconfirmed)",
    )
    rules_per_group: int = Field(
        100, ge=2, description="rules in one DNS Firewall rule group (default unconfirmed: check Service Quotas)"
    )


class AzureDnsLimits(ConfigModel):
    """Azure DNS security policy limits, from Microsoft's "DNS resolver policy" page, "Requirements and
    restrictions" (learn.microsoft.com/azure/dns/dns-security-policy, ms.date 08/11/2026): 100 traffic rules per
    policy, 2,000 domain lists, 100,000 domains; rule priorities 100-65000 ("DNS traffic rules"). One inline list
    is kept to 1,000 domains (``domainsPerList``), as Microsoft's REST example of one is "with less than 1000
    domains"; a one-name change then rewrites one small list."""

    domains_per_list: int = Field(
        1000,
        ge=1,
        description=(
            "domains in one list: Microsoft's REST example of an inline list has 'less than 1000 domains' (larger "
            "lists use bulk upload, which this stack does not); larger sets are sharded into stable lists"
        ),
    )
    domains_max: int = Field(100_000, ge=1, description="domains (Microsoft, DNS resolver policy restrictions)")
    domain_lists_max: int = Field(2000, ge=1, description="domain lists (DNS resolver policy restrictions)")
    rules_per_policy: int = Field(
        100, ge=2, description="DNS traffic rules per policy (DNS resolver policy restrictions)"
    )
    priority_min: int = Field(100, description="lowest rule priority Azure takes (processed first)")
    priority_max: int = Field(65000, description="highest rule priority Azure takes: the catch-all's")


_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_VNET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+$", re.IGNORECASE
)


class AwsDnsConfig(ConfigModel):
    """``endpoint-firewall:aws.dns``: Route 53 Resolver DNS Firewall for the stack's VPCs."""

    enabled: bool = Field(True, description="false: no DNS layer (the settings are kept)")
    mode: DnsMode = Field(DnsMode.BLOCK, description="alert: log every other name (rollout); block: refuse them")
    vpc_ids: tuple[str, ...] = Field(min_length=1, description="VPCs whose Route 53 Resolver filters the devices' DNS")
    extra_names: tuple[str, ...] = Field(
        (),
        description=(
            "names the stack needs beyond the catalogue (AD, private zones, its own AWS endpoints); never a wildcard "
            "over a shared-tenant suffix (endpoints/shared_tenants.py): name the instance"
        ),
    )
    block_response: Literal["NODATA", "NXDOMAIN"] = Field(
        "NODATA",
        description=(
            "the answer to a blocked query; NODATA (default) says nothing about names below the blocked one, where "
            "NXDOMAIN lets resolvers treat the whole subtree as absent (RFC 8020) and break allowed subdomains"
        ),
    )
    association_priority: int = Field(
        101, ge=100, le=9900, description="the rule group's place among the VPC's rule groups (AWS: 100-9900)"
    )
    mutation_protection: bool = Field(
        True, description="refuse changes to the association outside this stack (set false before removing it)"
    )
    fail_open: bool = Field(
        False,
        description="false (AWS's default): queries DNS Firewall cannot evaluate are blocked; true: they resolve",
    )
    limits: AwsDnsLimits = Field(AwsDnsLimits(), description="DNS Firewall's limits and quotas, checked at render time")

    @field_validator("extra_names", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return extra_names(value)

    @field_validator("vpc_ids")
    @classmethod
    def _vpcs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for vpc in value:
            if not _VPC_ID.match(vpc):
                raise ValueError(f"{vpc!r} is not a VPC id (vpc- and 8 or 17 hex digits)")
        if len(set(value)) != len(value):
            raise ValueError("a VPC is listed twice")
        return tuple(sorted(value))


class AzureDnsConfig(ConfigModel):
    """``endpoint-firewall:azure.dns``: an Azure DNS security policy (DNS resolver policy) for the stack's VNets."""

    enabled: bool = Field(True, description="false: no DNS layer (the settings are kept)")
    mode: DnsMode = Field(DnsMode.BLOCK, description="alert: log every other name (rollout); block: refuse them")
    virtual_network_ids: tuple[str, ...] = Field(
        min_length=1,
        description="ARM ids of the VNets to link: the firewall's hub (where its DNS proxy resolves) and the spokes",
    )
    extra_names: tuple[str, ...] = Field(
        (),
        description=(
            "names the stack needs beyond the catalogue (AD, private zones, its own Azure endpoints); never a "
            "shared-tenant suffix (endpoints/shared_tenants.py), nor a name above one or a wildcard over one, which "
            "resolve every tenant's instances: name the instance"
        ),
    )
    policy_name: str | None = Field(
        None, pattern=r"^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,78}[a-zA-Z0-9])?$", description="default <namePrefix>-dns"
    )
    location: str | None = Field(
        None, description="the policy's region, which must be the VNets' (default: azure.location or createPolicy's)"
    )
    limits: AzureDnsLimits = Field(
        AzureDnsLimits(), description="the DNS security policy's limits, checked at render time"
    )

    @field_validator("extra_names", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return extra_names(value, every_subdomain=True)  # "Rules follow the DNS hierarchy" (renderers/azure/dns.py)

    @field_validator("virtual_network_ids")
    @classmethod
    def _vnets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for vnet in value:
            if not _VNET_ID.match(vnet):
                raise ValueError(
                    f"{vnet!r} is not a virtual network id "
                    "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>)"
                )
        if len({v.lower() for v in value}) != len(value):
            raise ValueError("a virtual network is listed twice")
        return tuple(sorted(value, key=str.lower))
