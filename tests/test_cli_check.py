"""epfw check: allow or deny with the deciding rule, for Azure (documented order) and AWS (real Suricata)."""

from __future__ import annotations

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main


def check(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--project", str(ROOT), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    "target, extra, rule",
    [
        ("portal.manage.microsoft.com:443", (), "epfw-dev-intune-core/application/intune-core-fqdn-http80-https443"),
        ("1-courier.push.apple.com:5223", ("--proto", "tls"), "epfw-dev-apple/application/apple-fqdn-tls443-tls5223"),
        ("manage.microsoft.com:443", ("--ip", "40.82.248.230"), "epfw-dev-intune-core/application/"),
        ("20.189.172.170:443", (), "epfw-dev-intune-consolidated/network/"),  # no name listed: the address
        ("amsub0101lmsas.blob.core.windows.net:443", (), "epfw-dev-autopilot/application/autopilot-fqdn-https443"),
    ],
)
def test_azure_allows_catalogue_flows_and_names_the_rule(capsys, target, extra, rule):
    code, out = check(capsys, "--cloud", "azure", target, *extra)
    assert code == 0, out
    assert out.startswith("azure: ") and f": allow by {rule}" in out


@pytest.mark.parametrize(
    "target, extra",
    [
        ("evilmanage.microsoft.com:443", ()),
        ("manage.microsoft.com.evil.example:443", ()),
        ("portal.manage.microsoft.com:8443", ("--proto", "https")),
        ("40.82.248.240:443", ("--proto", "tcp")),
        ("40.82.248.230:443", ("--proto", "tcp")),  # ID 163's ranges: left to Intune's names (addressRules)
        ("attacker-c2.azurefd.net:443", ("--proto", "https", "--ip", "13.107.219.10")),
        ("q7x2storage.blob.core.windows.net:443", ()),  # ID 182 lists single storage accounts, never a wildcard
        ("gcc.remotehelp.microsoft.com:443", ()),  # us-gov: the demo stack does not name it
    ],
)
def test_azure_denies_look_alikes_with_exit_3(capsys, target, extra):
    code, out = check(capsys, "--cloud", "azure", target, *extra)
    assert code == 3, out
    assert "deny (default deny)" in out


def test_aws_allows_through_suricata_and_names_the_rule(capsys):
    code, out = check(capsys, "--cloud", "aws", "1-courier.push.apple.com:5223", "--proto", "tls")
    assert code == 0, out
    assert ": allow by " in out and "sid" in out


def test_aws_prod_exact_mode_denies_the_apex_of_a_wildcard(capsys):
    code, out = check(capsys, "--stack", "prod", "--cloud", "aws", "dm.microsoft.com:80")
    assert code == 3, out
    assert ": deny" in out


def test_aws_check_without_suricata_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EPFW_SURICATA", str(tmp_path / "no-suricata"))
    code, out = check(capsys, "--cloud", "aws", "portal.manage.microsoft.com:443")
    assert code == 1
    assert out.startswith("epfw: the AWS check runs the rules in Suricata") and "Traceback" not in out


def test_bad_port_is_a_one_line_error(capsys):
    code, out = check(capsys, "--cloud", "azure", "portal.manage.microsoft.com:99999")
    assert code == 1 and "outside 1-65535" in out
