"""Shared-tenant service domains: suffixes under which anyone can create an instance of a cloud service.

``*.webpubsub.azure.com`` reaches every Azure Web PubSub instance there is, a stranger's as well as the one a
vendor's documentation names: anyone with a subscription creates ``<name>.webpubsub.azure.com`` in minutes. Such a
suffix is not a public suffix (``names.is_public_suffix``), so the loader's public-suffix check lets a wildcard on
it through; the Public Suffix List's private section holds a few of these (``blob.core.windows.net``,
``azurewebsites.net``, ``azurefd.net``, ``cloudfront.net``: the loader already refuses wildcards on those), most it
does not. This module is the one list of them, each with the vendor page that says so, for the planner (which never
deploys such a wildcard unless the stack asks for it), the catalogue diff and whatever else must tell one tenant's
instance from a door open to all.

Pure data and one pure function; no I/O. Vendors rename hosts: each entry names the page and the version read, and a
new suffix is one more entry here (with its page), never a guess.

Reviewed and left out: ``powershellgallery.com``. The PowerShell Gallery is one Microsoft service: its publishers
publish packages (``www.powershellgallery.com/packages/<name>``), never host names, and Microsoft's own network
guidance lists ``*.powershellgallery.com`` as "website" ("Get Started with the PowerShell Gallery", section "Network
access to the PowerShell Gallery", https://learn.microsoft.com/powershell/gallery/getting-started, ms.date
01/18/2023, read 2026-12-04). A wildcard there is wide but reaches only Microsoft's hosts: :data:`REVIEWED_NOT_SHARED`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SharedTenantSuffix:
    """A suffix under which anyone can create an instance: ``instance`` shows how an instance is named."""

    suffix: str  # lowercase, no leading dot: "webpubsub.azure.com"
    service: str  # "Azure Web PubSub"
    instance: str  # "<resource name>.webpubsub.azure.com"
    source: str  # the vendor page that says anyone can create an instance there
    version: str  # the version of that page read (ms.date or the model's version) and the date it was read

    def why(self) -> str:
        """One sentence for a report: who can create what here, and where that is documented."""
        return (
            f"anyone can create an instance of {self.service} under {self.suffix} ({self.instance}; {self.source}, "
            f"{self.version})"
        )


_READ = "read 2026-12-04"
_STORAGE = "https://learn.microsoft.com/azure/storage/common/storage-account-overview"
_STORAGE_VERSION = f"section 'Storage account endpoints', ms.date 01/24/2022, {_READ}"
_DCE = "https://learn.microsoft.com/azure/azure-monitor/data-collection/data-collection-endpoint-overview"
_DCE_VERSION = f"section 'Components of a DCE', ms.date 05/21/2025, {_READ}"

SHARED_TENANT_SUFFIXES: tuple[SharedTenantSuffix, ...] = (
    SharedTenantSuffix(
        "webpubsub.azure.com",
        "Azure Web PubSub",
        "<globally unique resource name>.webpubsub.azure.com, free tier included",
        # the page's CLI include (includes/cli-awps-creation.md, ms.date 08/06/2021): "the host name is
        # `<your-unique-resource-name>.webpubsub.azure.com`"
        "https://learn.microsoft.com/azure/azure-web-pubsub/howto-develop-create-instance",
        f"ms.date 03/13/2023, {_READ}",
    ),
    SharedTenantSuffix(
        "ingest.monitor.azure.com",
        "Azure Monitor data collection endpoint (logs and metrics ingestion)",
        "<dce name>-<hash>.<region>-1.ingest.monitor.azure.com, <...>.metrics.ingest.monitor.azure.com",
        _DCE,
        _DCE_VERSION,
    ),
    SharedTenantSuffix(
        "control.monitor.azure.com",
        "Azure Monitor data collection endpoint (configuration access)",
        "<dce name>-<hash>.<region>-1.handler.control.monitor.azure.com",
        _DCE,
        _DCE_VERSION,
    ),
    *(
        SharedTenantSuffix(
            f"{service}.core.windows.net",
            f"Azure Storage account ({title})",
            f"<storage account>.{service}.core.windows.net",
            _STORAGE,
            _STORAGE_VERSION,
        )
        for service, title in (
            ("blob", "Blob Storage"),
            ("dfs", "Data Lake Storage Gen2"),
            ("file", "Azure Files"),
            ("queue", "Queue Storage"),
            ("table", "Table Storage"),
        )
    ),
    SharedTenantSuffix(
        "azurewebsites.net",
        "Azure App Service app",
        "<app name>.azurewebsites.net, free tier included",
        "https://learn.microsoft.com/azure/app-service/quickstart-dotnetcore",
        f"'The URL of the web app is http://<app-name>.azurewebsites.net', ms.date 03/26/2021, {_READ}",
    ),
    SharedTenantSuffix(
        "azurefd.net",
        "Azure Front Door endpoint",
        "<endpoint name>-<hash>.z01.azurefd.net",
        "https://learn.microsoft.com/azure/frontdoor/endpoint",
        f"section 'Endpoint domain names', ms.date 06/06/2022, {_READ}",
    ),
    SharedTenantSuffix(
        "cloudfront.net",
        "Amazon CloudFront distribution",
        "d111111abcdef8.cloudfront.net (a generated name per distribution)",
        "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionSummary.html",
        f"DistributionSummary.DomainName, botocore 1.44.8's cloudfront model (API 2020-05-31), {_READ}",
    ),
)

# Suffixes reviewed and found not to be shared-tenant (a wide wildcard on one vendor's own hosts), with the reason.
REVIEWED_NOT_SHARED: dict[str, str] = {
    "powershellgallery.com": (
        "one Microsoft service: publishers publish packages, not host names; Microsoft lists *.powershellgallery.com "
        "as the gallery's website (https://learn.microsoft.com/powershell/gallery/getting-started, 'Network access to "
        f"the PowerShell Gallery', ms.date 01/18/2023, {_READ})"
    ),
}


def shared_tenant_suffix(name: str) -> SharedTenantSuffix | None:
    """The shared-tenant suffix ``name`` reaches, or None.

    An exact name (``myhub.webpubsub.azure.com``) reaches the suffix it sits under: it is one instance, one
    tenant's. A wildcard ``*.base`` reaches every suffix it matches instances of: ``base`` is the suffix
    (``*.webpubsub.azure.com``), lies under it (``*.eastus-1.ingest.monitor.azure.com``) or above it
    (``*.monitor.azure.com`` matches every ``*.ingest.monitor.azure.com``); the first such suffix of
    :data:`SHARED_TENANT_SUFFIXES` is returned. The suffix itself, as an exact name, is no instance (None).
    Case and one trailing dot are ignored; nothing is validated (give names the loader accepted).
    """
    text = name.strip().lower().removesuffix(".")
    wildcard = text.startswith("*.")
    base = text[2:] if wildcard else text
    for entry in SHARED_TENANT_SUFFIXES:
        if base.endswith("." + entry.suffix) or (
            wildcard and (base == entry.suffix or entry.suffix.endswith("." + base))
        ):
            return entry
    return None


def is_shared_tenant_wildcard(name: str) -> bool:
    """``*.base`` that matches instances anyone can create (see :func:`shared_tenant_suffix`)."""
    return name.strip().startswith("*.") and shared_tenant_suffix(name) is not None
