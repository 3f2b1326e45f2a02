"""epfw check answers what the catalogue means: the source is honoured, the listed protocol is used, widened
allows say so, and pasted or malformed targets are refused in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main

CATALOGUE = """schema_version: 1
sources: [{id: s, title: t, url: "https://example.org/", date: 2026-01-01}]
service_areas: [{id: a, title: A, priority: 3000}]
entries:
  - id: web
    service_area: a
    description: a wildcard on HTTPS
    destinations: ["*.example.org"]
    services: [{protocol: https, port: 443}]
    provenance: {source: s, section: x}
  - id: push
    service_area: a
    description: a TLS service on another port
    destinations: [push.example.net]
    services: [{protocol: tls, port: 5223}]
    provenance: {source: s, section: x}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "catalogue.yaml").write_text(CATALOGUE)
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.t.yaml").write_text("""config:
  endpoint-firewall:sourceRanges: [10.20.0.0/16]
  endpoint-firewall:catalogue: [catalogue.yaml]
  endpoint-firewall:azure: {resourceGroupName: rg, policyName: fwpol}
  endpoint-firewall:aws: {namePrefix: t}
""")
    return root


def check(capsys, project: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["check", "--project", str(project), "--stack", "t", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_the_source_is_honoured(capsys, project, cloud):
    code, out, _ = check(capsys, project, "--cloud", cloud, "a.example.org", "--source", "10.20.3.4")
    assert code == 0, out
    code, out, _ = check(capsys, project, "--cloud", cloud, "a.example.org", "--source", "192.168.1.1")
    assert "192.168.1.1" in out
    if cloud == "azure":  # no Azure rule has that source: the default deny
        assert code == 3 and "outside every rule's sourceAddresses (10.20.0.0/16)" in out, out
    else:  # outside HOME_NET: no rule of these groups applies, and the verdict says so
        assert "not in HOME_NET" in out, out


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_a_bad_source_is_a_one_line_error(capsys, project, cloud):
    code, out, err = check(capsys, project, "--cloud", cloud, "a.example.org", "--source", "notanip")
    assert code == 1 and not out
    assert err == "epfw: --source 'notanip' is not an IPv4 or IPv6 address\n"


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_the_protocol_the_catalogue_lists_on_that_port_is_used(capsys, project, cloud):
    code, out, _ = check(capsys, project, "--cloud", cloud, "push.example.net:5223")
    assert code == 0, out
    note, verdict = out.splitlines()
    assert note == "note: checking --proto tls: the catalogue lists push.example.net on port 5223 as tls:5223"
    assert verdict.startswith(f"{cloud}: tls push.example.net:5223: allow by ")


def test_another_proto_than_the_listed_one_is_pointed_out(capsys, project):
    code, out, _ = check(capsys, project, "--cloud", "azure", "push.example.net:5223", "--proto", "tcp")
    assert code == 3
    assert "note: the catalogue lists push.example.net on port 5223 as tls:5223, not tcp (try --proto tls)" in out


def test_the_shipped_apns_host_on_5223_is_checked_as_tls(capsys):
    capsys.readouterr()
    assert (
        main(["check", "--project", str(ROOT), "--stack", "dev", "--cloud", "aws", "5-courier.push.apple.com:5223"])
        == 0
    )
    assert "aws: tls 5-courier.push.apple.com:5223: allow by " in capsys.readouterr().out


def test_an_allow_through_a_domain_list_on_another_port_says_widened(capsys, project):
    code, out, _ = check(capsys, project, "--cloud", "aws", "a.example.org:8443", "--proto", "tls")
    assert code == 0, out
    assert "widened: the catalogue does not list this flow" in out
    assert "the domain-list target for *.example.org (entries web) matches any port" in out
    code, out, _ = check(capsys, project, "--cloud", "azure", "a.example.org:8443", "--proto", "tls")
    assert code == 3, out  # Azure matches the port as listed


def test_an_allow_of_the_apex_of_a_wildcard_says_widened(capsys, project):
    code, out, _ = check(capsys, project, "--cloud", "aws", "example.org")
    assert code == 0, out
    assert "the domain-list target .example.org (for *.example.org, entries web) also matches example.org itself" in out


def test_a_listed_flow_is_not_called_widened(capsys, project):
    code, out, _ = check(capsys, project, "--cloud", "aws", "a.example.org")
    assert code == 0 and "widened" not in out, out


@pytest.mark.parametrize(
    "target, fragment",
    [
        ("https://login.microsoftonline.com/", "is a URL; write HOST[:PORT], such as login.microsoftonline.com"),
        ("http://login.microsoftonline.com", "is a URL; write HOST[:PORT], such as login.microsoftonline.com:80"),
        ("login.microsoftonline.com/common", "is a host and path; write HOST[:PORT]"),
        ("bad_host!!", "is not a host name or address"),
        ("*.manage.microsoft.com", "check one host name, not a wildcard"),
    ],
)
def test_pasted_or_malformed_targets_are_one_line_errors(capsys, project, target, fragment):
    code, out, err = check(capsys, project, "--cloud", "azure", target)
    assert code == 1 and not out
    assert len(err.splitlines()) == 1 and fragment in err, err
