"""One meaning of a catalogue name against a host (endpoints.names.wildcard_matches), and where each cloud's
checker departs from it on purpose."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from endpoint_firewall.checks.azure import fqdn_matches
from endpoint_firewall.checks.dns import aws_matches, azure_matches
from endpoint_firewall.endpoints.names import wildcard_matches


@pytest.mark.parametrize(
    "pattern, host, match",
    [
        ("x.com", "x.com", True),
        ("x.com", "a.x.com", False),  # an exact name is that name only
        ("a.x.com", "x.com", False),
        ("*.x.com", "a.x.com", True),
        ("*.x.com", "a.b.c.x.com", True),  # any depth
        ("*.x.com", "x.com", False),  # never the apex
        ("*.x.com", "evilx.com", False),  # the dot is part of the suffix
        ("*.x.com", "x.com.evil.example", False),
        ("*.x.com", ".x.com", False),  # no empty label in front
        ("X.COM", "x.com", True),  # case-insensitive, either side
        ("x.com", "X.Com", True),
        ("*.X.com", "A.x.COM", True),
        ("*.x.com", "X.COM", False),  # the apex in capitals is still the apex
        ("x.com", "x.com.", True),  # the host's root dot is ignored
        ("*.x.com", "a.x.com.", True),
        ("*.x.com", "x.com.", False),
        ("*", "a.x.com", False),  # a bare '*' is no catalogue name: the clouds' checkers add it themselves
    ],
)
def test_exact_names_match_themselves_and_wildcards_match_strictly_below(pattern, host, match):
    assert wildcard_matches(pattern, host) is match


_LABEL = st.text("abcxyz0-", min_size=1, max_size=4).filter(lambda s: s[0] != "-" and s[-1] != "-")
_NAME = st.lists(_LABEL, min_size=1, max_size=4)


@given(_NAME, _NAME)
def test_a_wildcard_matches_exactly_the_hosts_with_more_labels_ending_in_its_base(base, host):
    below = len(host) > len(base) and host[-len(base) :] == base
    assert wildcard_matches("*." + ".".join(base), ".".join(host)) is below
    assert wildcard_matches(".".join(base), ".".join(host)) is (host == base)


@pytest.mark.parametrize(
    "pattern, host",
    [("x.com", "x.com"), ("x.com", "a.x.com"), ("*.x.com", "a.b.x.com"), ("*.x.com", "x.com"), ("*.x.com", "ax.com")],
)
def test_the_firewall_checkers_mean_what_the_catalogue_means_by_its_names(pattern, host):
    assert aws_matches(pattern, host) is fqdn_matches(pattern, host) is wildcard_matches(pattern, host)


def test_where_the_clouds_depart_from_the_catalogue_on_purpose():
    # '*' is every name to DNS Firewall and in an Azure target FQDN
    assert aws_matches("*", "a.x.com") and fqdn_matches("*", "a.x.com")
    # an Azure target '*x.com' (no dot) is a plain suffix: evilx.com too
    assert fqdn_matches("*x.com", "evilx.com") and fqdn_matches("*X.com", "EVILX.com.")
    assert not wildcard_matches("*x.com", "evilx.com")
    # an Azure DNS security policy entry matches its domain and every name below it, the apex included
    assert azure_matches("x.com", "x.com") and azure_matches("x.com", "a.b.x.com")
    assert not azure_matches("x.com", "evilx.com")
    assert azure_matches(".", "a.x.com")
