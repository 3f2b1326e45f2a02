"""What the import knows of the Intune page: its sections and the service areas they list, the shapes of its tables,
its regions. A section, table shape or region the page adds is named by the import (reported, or refused when it
holds endpoints), and added here."""

from __future__ import annotations

from ....endpoints.models import Protocol, Service

SOURCE_ID = "intune-page"
SOURCE_URL = "https://learn.microsoft.com/intune/fundamentals/endpoints"
PREFIX = "intune-"
GOV_REGION = "us-gov"  # entries a stack deploys only when it names this region (see planning.selection)

# id -> (title, priority). Apple (1400) and Android (1500) belong to the vendor files.
AREAS: dict[str, tuple[str, int]] = {
    "intune-core": ("Intune core service (Intune client, enrollment, Win32 app CDN, Azure Front Door)", 1000),
    "authentication": ("Authentication dependencies (Microsoft Entra ID, Office configuration)", 1050),
    "win32-cdn": ("PowerShell scripts and Win32 apps: Intune management extension content by region", 1100),
    "macos-cdn": ("macOS app and script deployments: sidecar content by region", 1150),
    "delivery-optimization": ("Windows Delivery Optimization", 1200),
    "android-aosp": ("Android (AOSP) management", 1250),
    "wns": ("Windows Push Notification Services", 1300),
    "attestation": ("Device health attestation (Microsoft Azure Attestation) by region", 1350),
    "remote-help": ("Remote Help", 1600),
    "autopilot": ("Windows Autopilot", 1650),
    "defender": ("Microsoft Defender for Endpoint security settings management", 1700),
    "epm": ("Endpoint Privilege Management", 1750),
    "microsoft-store": ("Microsoft Store apps", 1800),
    "intune-consolidated": ("Values only in the page's consolidated list", 1850),
    "intune-references": ("Documents the page points to (nothing to render)", 1900),
}

# section anchor -> service area of what it lists
SECTIONS: dict[str, str] = {
    "intune-core-service": "intune-core",
    "authentication-dependencies": "authentication",
    "android-aosp-dependencies": "android-aosp",
    "delivery-optimization-dependencies": "delivery-optimization",
    "windows-push-notification-services-wns-dependencies": "wns",
    "remote-help": "remote-help",
    "windows-autopilot-dependencies": "autopilot",
    "microsoft-defender-for-endpoint": "defender",
    "microsoft-intune-endpoint-privilege-management": "epm",
    "microsoft-store": "microsoft-store",
    "migrating-device-health-attestation-compliance-policies-to-microsoft-azure-attestation": "attestation",
    "network-requirements-for-macos-app-and-script-deployments": "macos-cdn",
    "network-requirements-for-powershell-scripts-and-win32-apps": "win32-cdn",
}
# sections that only point at other documents: one reference entry each
REFERENCE_SECTIONS = (
    "android-enterprise-dependencies",
    "apple-dependencies",
    "endpoint-analytics",
    "diagnostics-collection",
    "microsoft-security-copilot",
    "windows-autopatch",
)
CONSOLIDATED = "consolidated-endpoint-list"
# prose, procedures and navigation: nothing to import
PROSE_SECTIONS = (
    "network-endpoints-for-microsoft-intune",
    "access-for-managed-devices",
    "endpoints",
    "intune-dependencies",
    "azure-front-door-connectivity-diagnostics-tool",
    "prerequisites",
    "usage",
    "script-execution",
    "options-and-commands",
    "troubleshooting",
    "related-content",
)

ENDPOINT_SET = ("ID", "Desc", "Category", "ER", "Addresses", "Ports")
REGION_TABLE = ("Region", "CDN", "Port")
REGIONS = {"north america": "north-america", "europe": "europe", "asia pacific": "asia-pacific"}
CONSOLIDATED_BLOCKS = {"fqdns": "FQDNs", "ip subnets": "IP Subnets"}
WEB_PORTS = (Service(protocol=Protocol.HTTP, port=80), Service(protocol=Protocol.HTTPS, port=443))
HTTPS_ONLY = (Service(protocol=Protocol.HTTPS, port=443),)
