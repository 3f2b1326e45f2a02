"""What each Azure Firewall tier can take, as Microsoft documents it, and the config combinations it cannot.

Pure: no Pulumi, no I/O. The Azure settings (:mod:`.azure_config`) validate with these functions; the renderer
(``renderers/azure/``) states the same facts in its findings.

Sources (read 2026-12-01):

- learn.microsoft.com/azure/firewall/features-by-sku (ms.date 2025-09-18), "Basic limitations":
  "DNS proxy: Not available (uses Azure DNS only)" and "Network FQDN filtering: Not supported (application FQDN
  filtering only)"; the table gives "DNS proxy + custom DNS" and "Network level FQDN filtering - all ports and
  protocols" to Standard and Premium only. Azure refuses a Basic policy with DNS settings:
  ``FirewallPolicyHigherTierOnlyProperties: Firewall Policy ... contains higher tier only properties - DNS Proxy
  and Custom DNS`` (Azure/Azure-Landing-Zones#1527).
- learn.microsoft.com/azure/firewall-manager/policy-overview, "Basic, Standard, and Premium policies": a Basic
  policy is for "Firewall SKU support: Basic", a Premium policy for Premium; the Basic deployment guide
  (learn.microsoft.com/azure/firewall/deploy-firewall-basic-portal-policy) sets "Firewall management: Use a
  Firewall Policy to manage this firewall" with "Policy tier should default to Basic", and the Premium migration
  guide (premium-migrate) starts with "Create new Premium policy based on your existing Standard policy or classic
  rules" and ends "Attach the newly created Premium policy to your Premium Firewall". Classic rules are therefore
  taken here only on a Standard firewall.
- learn.microsoft.com/azure/firewall/deploy-dual-stack-firewall (ms.date 2026-07-16), "Limitations": "Classic Azure
  Firewall isn't supported.", "Application and DNAT rules aren't supported yet.", "Threat intelligence, IDPS,
  Explicit Proxy, and IP Groups based scenarios aren't supported."; "Network rules: Azure Firewall fully supports
  IPv6 traffic in network rules."
"""

from __future__ import annotations

from typing import Any

DNS_PROXY_TIERS = ("Standard", "Premium")
CLASSIC_TIERS = ("Standard",)

DUAL_STACK_PAGE = "learn.microsoft.com/azure/firewall/deploy-dual-stack-firewall (2026-07-16)"
IPV6_OFF_REASON = (
    "IPv6 destination: Azure Firewall filters IPv6 only in dual stack mode, in preview, in network rules of a "
    "Firewall Policy (not classic rules, not IP Groups; " + DUAL_STACK_PAGE + "); set azure.ipv6: preview on a "
    "dual-stack firewall to render it"
)
IPV6_CLASSIC_REASON = (
    "IPv6 destination: 'Classic Azure Firewall isn't supported' in dual stack mode (" + DUAL_STACK_PAGE + ")"
)
BASIC_NAMES_REASON = (
    "name on plain TCP/UDP ({services}): Azure Firewall Basic has no DNS proxy and so no FQDNs in network rules "
    "(features-by-sku: 'Network FQDN filtering: Not supported (application FQDN filtering only)'). On Basic, names "
    "are allowed only by application rules (HTTP/HTTPS, by Host or SNI) and other traffic only by address: list the "
    "service's published addresses or CIDRs (or a service tag) in the catalogue, or use Standard"
)


def effective_tier(config: Any) -> str:
    if config.sku_tier:
        return config.sku_tier
    return config.create_policy.sku_tier if config.create_policy else "Standard"


def tier_problems(config: Any) -> list[str]:
    """Why Azure cannot take this config (``AzureConfig``), each naming the keys; empty when it can."""
    problems = []
    tier = effective_tier(config)
    policy = config.create_policy
    if config.sku_tier and policy and "sku_tier" in policy.model_fields_set and policy.sku_tier != config.sku_tier:
        problems.append(
            f"skuTier ({config.sku_tier}) and createPolicy.skuTier ({policy.sku_tier}) disagree: the "
            "policy's tier is the firewall's; set one of them"
        )
    if config.dns_proxy and tier not in DNS_PROXY_TIERS:
        problems.append(
            f"dnsProxy: true is refused with skuTier {tier}: Azure Firewall Basic has no DNS proxy "
            "(features-by-sku: 'DNS proxy: Not available (uses Azure DNS only)'; a Basic policy with "
            "DNS settings fails with FirewallPolicyHigherTierOnlyProperties); set dnsProxy: false"
        )
    if config.target == "classic" and tier not in CLASSIC_TIERS:
        problems.append(
            f"target classic is refused with skuTier {tier}: Azure Firewall {tier} is managed by a "
            f"{tier} Firewall Policy (policy-overview: '{tier} policy ... Firewall SKU support: {tier}'); "
            "use target policy"
        )
    if config.target == "classic" and config.ipv6:
        problems.append(
            "ipv6: preview is refused for target classic: 'Classic Azure Firewall isn't supported' in "
            f"dual stack mode ({DUAL_STACK_PAGE}); use target policy"
        )
    sku = (config.firewall_args or {}).get("sku")
    declared = sku.get("tier") if isinstance(sku, dict) else None
    if config.target == "classic" and isinstance(declared, str) and declared != tier:  # an Output is not known here
        problems.append(
            f"firewallArgs.sku.tier ({declared}) and skuTier ({tier}) disagree: set skuTier to the firewall's tier"
        )
    return problems
