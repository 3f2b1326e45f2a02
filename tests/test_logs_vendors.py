"""Catalogue candidates: which entries a denied name is close to, and the line that would add it."""

from __future__ import annotations

import pytest

from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.logs.vendors import Vendors, page_hosts


@pytest.fixture(scope="module")
def vendors() -> Vendors:
    places = {
        "apple-apns": ("apple.yaml", 18, None),
        "intune-163": ("intune.yaml", 33, "intune-page"),
        "autopilot-deployment-service": ("autopilot.yaml", 40, "autopilot-page"),
    }
    pages = {"intune-page": (frozenset({"brand-new.microsoft.com"}), "fixups.yaml")}
    return Vendors(load_catalogue(), places, pages)


def test_a_name_under_a_listed_wildcard_is_named_not_a_sibling(vendors):
    near = vendors.near("anything.manage.microsoft.com")
    assert ("intune-163", "*.manage.microsoft.com") in {(e.id, n) for e, n in near.naming}


def test_siblings_share_the_owners_domain_closest_first(vendors):
    near = vendors.near("x.push.apple.com", "tls:5223")
    assert near.domain == "apple.com" and not near.naming
    assert near.siblings[0][0].id == "apple-apns"  # courier.push.apple.com shares push.apple.com, and tls:5223


def test_a_shared_tenant_name_is_nobodys_sibling(vendors):
    """``blob.core.windows.net`` is a public suffix (the list's private section): every account is its own domain."""
    near = vendors.near("evil.blob.core.windows.net")
    assert near.domain == "evil.blob.core.windows.net" and not near.naming and not near.siblings


def test_the_line_that_adds_a_name(vendors):
    apns = vendors.catalogue.entry("apple-apns")
    core = vendors.catalogue.entry("intune-163")
    assert vendors.add_line(apns, "x.push.apple.com", "tls:5223") == (
        'apple.yaml:18: entry apple-apns: add "- x.push.apple.com" under destinations'
    )
    assert "and {protocol: http, port: 80} under services" in vendors.add_line(apns, "x.push.apple.com", "http:80")
    assert "fixups.yaml: - {value: brand-new.microsoft.com, add: intune-core, ports: [443]" in vendors.add_line(
        core, "brand-new.microsoft.com", "https:443"
    )
    assert "a catalogue file of your own" in vendors.add_line(core, "other.microsoft.com", "https:443")
    autopilot = vendors.catalogue.entry("autopilot-deployment-service")  # its import takes no add fix-ups
    line = vendors.add_line(autopilot, "brand-new.microsoft.com", "https:443")
    assert line.startswith("autopilot.yaml is written by `epfw import autopilot-page`") and "of your own" in line


def test_page_hosts_leave_out_link_targets():
    text = "Intune needs `a.example.com` and \\*.b.example.com; see [the docs](https://docs.example.org/page)."
    assert page_hosts(text) == {"a.example.com", "b.example.com"}
