"""The DNS layer's stack keys (``endpoint-firewall:aws.dns``, ``azure.dns``): the demo stacks' settings, and bad
input refused with the stack file, line and key, before anything is rendered."""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_stack_config import write_stack

from endpoint_firewall.cli.main import main
from endpoint_firewall.config.dns_config import DnsMode
from endpoint_firewall.config.stack_config import ConfigError, load_stack_file
from endpoint_firewall.program.render import render_stack

VNET = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub"
AWS = """config:
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:aws:
    namePrefix: t
    dns:
      vpcIds: [vpc-0a1b2c3d]
      extraNames:
        - corp.example.com
        - NAME
"""
AZURE = f"""config:
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:azure:
    resourceGroupName: rg
    policyName: pol
    location: westeurope
    dns:
      virtualNetworkIds: [{VNET}]
"""


def test_the_demo_stacks_enable_the_layer_on_both_clouds():
    dev, prod = (load_stack_file(ROOT / "stacks" / f"Pulumi.{s}.yaml") for s in ("dev", "prod"))
    for config, mode in ((dev, DnsMode.ALERT), (prod, DnsMode.BLOCK)):
        assert config.aws and config.aws.dns and config.azure and config.azure.dns
        assert config.aws.dns.mode is mode and config.azure.dns.mode is mode
    assert prod.aws.dns.block_response == "NODATA" and prod.aws.dns.mutation_protection and not prod.aws.dns.fail_open


@pytest.mark.parametrize(
    "body, line, key, message",
    [
        (AWS.replace("NAME", "bad_label-.example.com"), 9, "endpoint-firewall:aws.dns.extraNames[1]", "label"),
        (AWS.replace("NAME", "10.1.2.3"), 9, "endpoint-firewall:aws.dns.extraNames[1]", "is an address"),
        (AWS.replace("NAME", '"*.com"'), 9, "endpoint-firewall:aws.dns.extraNames[1]", "public suffix"),
        (AWS.replace("NAME", "CORP.example.com."), 9, "endpoint-firewall:aws.dns.extraNames[1]", "listed twice"),
        (AWS.replace("NAME", "intranet"), 9, "endpoint-firewall:aws.dns.extraNames[1]", "not a fully qualified"),
        (AWS.replace("vpc-0a1b2c3d", "vpc-xyz"), 6, "endpoint-firewall:aws.dns.vpcIds", "not a VPC id"),
        (AWS.replace("NAME", "a.example.com\n      mode: deny"), 10, "endpoint-firewall:aws.dns.mode", "alert"),
        (
            AWS.replace("NAME", "a.example.com\n      blockResponse: OVERRIDE"),
            10,
            "endpoint-firewall:aws.dns.blockResponse",
            "NODATA",
        ),
        (
            AWS.replace("NAME", "a.example.com\n      associationPriority: 99"),
            10,
            "endpoint-firewall:aws.dns.associationPriority",
            "100",
        ),
        (
            AWS.replace("      vpcIds: [vpc-0a1b2c3d]\n", ""),
            5,
            "endpoint-firewall:aws.dns.vpcIds",
            "missing required key",
        ),
        (
            AZURE.replace(VNET, "vnet-hub"),
            8,
            "endpoint-firewall:azure.dns.virtualNetworkIds",
            "not a virtual network id",
        ),
        (AZURE.replace("    location: westeurope\n", ""), 3, "endpoint-firewall:azure", "dns needs location"),
    ],
)
def test_bad_dns_settings_are_refused_with_file_line_and_key(tmp_path, capsys, body, line, key, message):
    path = write_stack(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, key), problem
    assert message in problem.message
    out = tmp_path / "out"
    assert main(["render", "--project", str(tmp_path), "--stack", "t", "--out", str(out)]) == 1
    assert f"{path}:{line}: {key}: " in capsys.readouterr().err
    assert not out.exists()


AZURE_EXTRA = AZURE + "      extraNames: [corp.example.com, NAME]\n"


@pytest.mark.parametrize(
    "body, key",
    [
        (AWS.replace("NAME", '"*.webpubsub.azure.com"'), "aws.dns.extraNames[1]"),
        (AWS.replace("NAME", '"*.Queue.Core.Windows.Net."'), "aws.dns.extraNames[1]"),
        (AWS.replace("NAME", '"*.monitor.azure.com"'), "aws.dns.extraNames[1]"),  # over *.ingest.monitor.azure.com
        (AWS.replace("NAME", '"*.eastus-1.ingest.monitor.azure.com"'), "aws.dns.extraNames[1]"),
        (AZURE_EXTRA.replace("NAME", '"*.webpubsub.azure.com"'), "azure.dns.extraNames[1]"),
        # Azure matches a name and every name below it: the suffix itself, or a name above it, opens every tenant
        (AZURE_EXTRA.replace("NAME", "webpubsub.azure.com"), "azure.dns.extraNames[1]"),
        (AZURE_EXTRA.replace("NAME", "blob.core.windows.net"), "azure.dns.extraNames[1]"),
        (AZURE_EXTRA.replace("NAME", "core.windows.net"), "azure.dns.extraNames[1]"),
    ],
)
def test_extra_names_that_resolve_every_tenants_instances_are_refused_naming_the_list(tmp_path, body, key):
    path = write_stack(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    [problem] = err.value.problems
    assert (problem.line, problem.field) == (9, f"endpoint-firewall:{key}"), problem
    assert "resolves every tenant's instances" in problem.message
    assert "endpoints/shared_tenants.py" in problem.message and "anyone can create an instance" in problem.message


@pytest.mark.parametrize(
    "body, cloud",
    [
        (AWS.replace("NAME", "contoso.webpubsub.azure.com"), "aws"),  # one tenant's instance
        (AWS.replace("NAME", "webpubsub.azure.com"), "aws"),  # AWS: an exact name matches that name only
        (AZURE_EXTRA.replace("NAME", "contoso.webpubsub.azure.com"), "azure"),
        (AZURE_EXTRA.replace("NAME", "azure-devices.example.com"), "azure"),
    ],
)
def test_one_tenants_instance_and_exact_names_that_match_only_themselves_are_kept(tmp_path, body, cloud):
    config = load_stack_file(write_stack(tmp_path, body))
    settings = config.aws if cloud == "aws" else config.azure
    assert settings is not None and settings.dns is not None
    assert len(settings.dns.extra_names) == 2


def test_extra_names_are_normalised_sorted_and_rendered(tmp_path):
    write_stack(tmp_path, AWS.replace("NAME", '"*.Corp.Example.com."'))
    config = load_stack_file(tmp_path / "stacks" / "Pulumi.t.yaml")
    assert config.aws.dns.extra_names == ("*.corp.example.com", "corp.example.com")
    rendered = render_stack("t", tmp_path)
    domains = {d for dl in rendered.aws.dns.lists for d in dl.domains}
    assert {"*.corp.example.com", "corp.example.com"} <= domains


def test_the_limits_are_checked_ones_only(tmp_path):
    """Each AWS DNS limit the stack takes is checked by the render (tests/test_dns_aws.py); rule group associations
    per VPC are not a key: the stack makes one per VPC, and the VPC's other associations are not known here."""
    body = AWS.replace("NAME", "a.example.com\n      limits: {associationsPerVpc: 5}")
    with pytest.raises(ConfigError) as err:
        load_stack_file(write_stack(tmp_path, body))
    assert [(p.field, p.message) for p in err.value.problems] == [
        ("endpoint-firewall:aws.dns.limits.associationsPerVpc", "unknown key")
    ]
    limits = render_stack("dev", ROOT).summary()["aws"]["dns"]["limits"]
    assert "associationsPerVpc" not in limits and limits


def test_a_disabled_layer_renders_nothing(tmp_path):
    write_stack(tmp_path, AWS.replace("NAME", "a.example.com\n      enabled: false"))
    rendered = render_stack("t", tmp_path)
    assert rendered.aws.dns is None
    assert not any("/dns/" in p for p in rendered.files())
    assert "dns" not in rendered.summary()["aws"]
