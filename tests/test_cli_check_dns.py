"""``epfw check --dns NAME --cloud aws|azure``: resolve (0) or block (3), and the rule that decided."""

from __future__ import annotations

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main


def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", "--project", str(ROOT), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    "cloud, name, code, words",
    [
        ("aws", "login.microsoftonline.com", 0, ["resolve by epfw-prod-dns/allow", "TRUST_REDIRECTION_DOMAIN"]),
        ("aws", "manage.microsoft.com.evil.example", 3, ["block by epfw-prod-dns/everything-else", "NODATA"]),
        ("azure", "login.microsoftonline.com", 0, ["resolve by epfw-prod-dns/allow", "priority 100"]),
        ("azure", "mfrggzdf.t.attacker.example", 3, ["block by epfw-prod-dns/everything-else", "domain ."]),
        ("azure", "x.login.microsoftonline.com", 0, ["widened: the catalogue lists login.microsoftonline.com"]),
    ],
)
def test_resolve_or_block_and_the_deciding_rule(capsys, cloud, name, code, words):
    status, out = check(capsys, "--stack", "prod", "--cloud", cloud, "--dns", name)
    assert status == code, out
    assert out.startswith(f"{cloud} dns: {name}: ")
    for word in words:
        assert word in out, out


def test_dev_alerts_and_says_so(capsys):
    status, out = check(capsys, "--stack", "dev", "--cloud", "aws", "--dns", "evilmanage.microsoft.com")
    assert status == 0 and "ALERT" in out and "mode alert" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cloud", "aws", "--dns", "a.example.com", "b.example.com"], "give no HOST[:PORT]"),
        (["--cloud", "aws", "--dns", "not a name"], "is not a host name"),
        (["--cloud", "aws"], "--dns NAME"),
    ],
)
def test_bad_use_is_a_one_line_error(capsys, args, message):
    status, out = check(capsys, *args)
    assert status == 1 and message in out and "Traceback" not in out


def test_a_stack_without_the_layer_says_so(tmp_path, capsys):
    from test_stack_config import GOOD, write_stack

    write_stack(tmp_path, GOOD)
    status = main(["check", "--project", str(tmp_path), "--stack", "t", "--cloud", "aws", "--dns", "a.example.com"])
    assert status == 1 and "no enabled DNS layer on aws" in capsys.readouterr().err
