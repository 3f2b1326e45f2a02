"""The cross-language package: the schema Pulumi's analyzer infers offline, and construction the way the
provider does it (``ComponentProvider.construct``, camelCase inputs) under mocks.

No Pulumi CLI is needed: ``ComponentProvider(components, name)`` runs the same analyzer and schema generator
that ``component_provider_host`` runs when the engine starts the plugin (``pulumi package get-schema``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider

from endpoint_firewall.components import provider
from endpoint_firewall.components.consumer_args import AwsEgressRulesArgs, AzureEgressRulesArgs

AZURE = "endpoint-firewall:index:AzureEgressRules"
AWS = "endpoint-firewall:index:AwsEgressRules"
SELECTION = "endpoint-firewall:index:EgressSelectionArgs"
COMMON_INPUTS = {"sourceRanges", "peerRanges", "catalogueYaml", "cataloguePaths", "selection"}
AZURE_NAMES = {"resourceGroupName", "policyName", "firewallName", "location"}  # Inputs: passed to the children


@pytest.fixture(scope="module")
def schema() -> dict:
    schema = ComponentProvider(provider.COMPONENTS, provider.PACKAGE, None, "1.2.3").schema
    assert schema is not None
    return json.loads(schema)


def test_package_and_resources(schema):
    assert schema["name"] == "endpoint-firewall" and schema["version"] == "1.2.3"
    assert set(schema["resources"]) == {AZURE, AWS}
    assert all(r["isComponent"] for r in schema["resources"].values())
    assert schema["resources"][AZURE]["description"].startswith("Azure Firewall egress rules")
    assert schema["resources"][AWS]["description"].startswith("AWS Network Firewall egress rules")
    # the token the components register under is the schema's (module index, type = class name)
    source = Path(provider.__file__).read_text(encoding="utf-8")
    assert 'f"{PACKAGE}:index:AzureEgressRules"' in source and 'f"{PACKAGE}:index:AwsEgressRules"' in source


def test_inputs_names_types_and_descriptions(schema):
    azure, aws = schema["resources"][AZURE], schema["resources"][AWS]
    assert set(azure["inputProperties"]) == COMMON_INPUTS | {"azure", "firewallArgs", "tags"} | AZURE_NAMES
    assert set(aws["inputProperties"]) == COMMON_INPUTS | {"aws", "tags"}
    assert sorted(azure["requiredInputs"]) == ["azure", "sourceRanges"]
    assert sorted(aws["requiredInputs"]) == ["aws", "sourceRanges"]
    for resource in (azure, aws):
        inputs = resource["inputProperties"]
        for name in ("sourceRanges", "peerRanges", "catalogueYaml", "cataloguePaths"):
            assert inputs[name]["type"] == "array" and inputs[name]["items"]["type"] == "string", name
        assert inputs["selection"]["$ref"] == f"#/types/{SELECTION}"
        # what decides the rules is plain: the plan is computed at construction, before anything is registered;
        # the names of what the rules attach to, and the tags, are inputs (another resource's output)
        passed_through = AZURE_NAMES | {"tags"}
        assert {n for n, p in inputs.items() if not p.get("plain")} == passed_through & set(inputs)
        assert inputs["tags"]["type"] == "object" and inputs["tags"]["additionalProperties"]["type"] == "string"
        assert all(p.get("description") for p in inputs.values())
        assert "HOME_NET" in inputs["sourceRanges"]["description"]
        assert "shipped catalogue" in inputs["catalogueYaml"]["description"]
    for cloud, resource in (("azure", azure), ("aws", aws)):
        settings = resource["inputProperties"][cloud]
        assert settings["type"] == "object" and settings["additionalProperties"]["$ref"] == "pulumi.json#/Any"
        assert f"endpoint-firewall:{cloud}" in settings["description"]
    assert "classic" in azure["inputProperties"]["firewallArgs"]["description"]
    for name in AZURE_NAMES:
        assert azure["inputProperties"][name]["type"] == "string" and name not in azure["requiredInputs"]


def test_selection_type(schema):
    selection = schema["types"][SELECTION]
    assert selection["type"] == "object"
    props = selection["properties"]
    assert set(props) == {
        "serviceAreas",
        "regions",
        "includeOptional",
        "entries",
        "sharedTenantWildcards",
        "tenantInstances",
    }
    assert props["includeOptional"]["type"] == "boolean"
    assert props["sharedTenantWildcards"]["type"] == "string"
    assert props["tenantInstances"]["type"] == "array" and props["tenantInstances"]["items"]["type"] == "string"
    assert props["serviceAreas"]["type"] == "array" and props["serviceAreas"]["items"]["type"] == "string"
    assert all(p.get("description") for p in props.values())
    assert not selection.get("required")


def test_outputs(schema):
    for token in (AZURE, AWS):
        resource = schema["resources"][token]
        props = resource["properties"]
        assert set(props) == {"catalogueDigest", "selectedEntries", "rules"}
        assert props["catalogueDigest"]["type"] == "string" and props["selectedEntries"]["type"] == "integer"
        assert props["rules"]["type"] == "object"
        assert all(p.get("description") for p in props.values())
        assert sorted(resource["required"]) == ["catalogueDigest", "rules", "selectedEntries"]


def test_analyzer_directly_sees_the_typed_dicts():
    result = Analyzer(provider.PACKAGE).analyze(provider.COMPONENTS)
    definitions = result["component_definitions"]
    assert set(definitions) == {"AzureEgressRules", "AwsEgressRules"}
    azure = definitions["AzureEgressRules"]
    assert azure.inputs_mapping["sourceRanges"] == "source_ranges"
    assert azure.inputs_mapping["firewallArgs"] == "firewall_args"
    assert azure.outputs_mapping == {
        "catalogueDigest": "catalogue_digest",
        "selectedEntries": "selected_entries",
        "rules": "rules",
    }
    assert azure.inputs["peerRanges"].optional and not azure.inputs["sourceRanges"].optional
    assert set(AzureEgressRulesArgs.__required_keys__) == {"source_ranges", "azure"}
    assert set(AwsEgressRulesArgs.__required_keys__) == {"source_ranges", "aws"}


CONSTRUCT = r'''
import json
import pulumi, pulumi_aws
from pulumi.provider.experimental.component import ComponentProvider
from endpoint_firewall.components import provider
from endpoint_firewall.preview.mock_runner import RecordingMocks, run_under_mocks

component_provider = ComponentProvider(provider.COMPONENTS, provider.PACKAGE)
CATALOGUE = """
schema_version: 1
sources: [{id: s, title: S, url: "https://example.com/s", date: 2026-01-01}]
service_areas: [{id: app, title: App, priority: 3000}]
entries:
  - {id: app-api, service_area: app, description: API, destinations: [api.app.example.com],
     services: [{protocol: https, port: 443}], provenance: {source: s, section: api}}
  - {id: app-other, service_area: app, description: Other, destinations: [other.app.example.com],
     services: [{protocol: https, port: 443}], provenance: {source: s, section: other}}
"""
results = {}

def program():
    aws_provider = pulumi_aws.Provider("consumer-aws", region="eu-west-1")
    opts = pulumi.ResourceOptions(providers=[aws_provider], protect=True)
    aws = component_provider.construct("app-aws", "endpoint-firewall:index:AwsEgressRules", {
        "sourceRanges": ["10.60.0.0/16"], "catalogueYaml": [CATALOGUE],
        "selection": {"entries": ["app-api"]},
        "aws": {"namePrefix": "app", "fqdnMode": "domain-list", "firewallPolicy": {"name": "app-egress"},
                "dns": {"vpcIds": ["vpc-0a1b2c3d"]}},
    }, opts)
    azure = component_provider.construct("app-azure", "endpoint-firewall:index:AzureEgressRules", {
        "sourceRanges": ["10.60.0.0/16"],
        # the shipped catalogue (no catalogue given) names NTP hosts on UDP 123: FQDN network rules, DNS proxy
        "azure": {"resourceGroupName": "rg-app", "policyName": "fwpol-app", "namePrefix": "app", "dnsProxy": True,
                  "location": "westeurope", "addressRules": "tcp",  # tcp: ID 163's ranges in an IP Group
                  "dns": {"virtualNetworkIds": [
                      "/subscriptions/0/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/hub"]}},
    }, None)
    aws.state["rules"].apply(lambda v: results.update(aws_dns=sorted(v.get("dns", {}))))
    results["aws_state"] = sorted(aws.state)
    results["azure_state"] = sorted(azure.state)
    return pulumi.Output.all(aws.state["catalogueDigest"], aws.state["selectedEntries"],
                             azure.state["selectedEntries"]).apply(lambda v: results.update(values=v))

mocks = run_under_mocks(program, RecordingMocks(), project="consumer", stack="dev")
records = [dict(r, **mocks.options[r["urn"]]) for r in mocks.resources]  # with each one's provider and protect
print(json.dumps({"records": records, "results": results}, default=str))
'''


@pytest.fixture(scope="module")
def constructed(tmp_path_factory) -> dict:
    script = tmp_path_factory.mktemp("construct") / "construct.py"
    script.write_text(textwrap.dedent(CONSTRUCT), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=script.parent
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_construct_maps_camel_case_inputs_and_builds_the_plan(constructed):
    results = constructed["results"]
    assert results["aws_state"] == results["azure_state"] == ["catalogueDigest", "rules", "selectedEntries"]
    digest, aws_entries, azure_entries = results["values"]
    assert len(digest) == 64 and aws_entries == 1  # the selection kept one of the two entries
    assert azure_entries > 10  # no catalogue given: the shipped one
    records = constructed["records"]
    aws_text = json.dumps([r["inputs"] for r in records if r["type"] == "aws:networkfirewall/ruleGroup:RuleGroup"])
    assert "api.app.example.com" in aws_text and "other.app.example.com" not in aws_text
    groups = [r for r in records if r["type"] == "azure-native:network:FirewallPolicyRuleCollectionGroup"]
    assert groups and {g["inputs"]["firewallPolicyName"] for g in groups} == {"fwpol-app"}


def test_children_are_parented_and_inherit_the_consumers_options(constructed):
    by_type = {r["type"]: r for r in constructed["records"]}
    wrapper, inner = (
        by_type["endpoint-firewall:index:AwsEgressRules"],
        by_type["endpoint-firewall:aws:NetworkFirewallRules"],
    )
    assert wrapper["name"] == inner["name"] == "app-aws"  # the consumer's name, on the wrapper and its child
    assert inner["parent"] == wrapper["urn"]
    aws_custom = [r for r in constructed["records"] if r["type"].startswith("aws:networkfirewall")]
    assert aws_custom and all(r["parent"] == inner["urn"] for r in aws_custom)
    # protect and the explicit provider reach the cloud resources through parenting
    assert all(r["protect"] for r in aws_custom)
    provider_urn = by_type["pulumi:providers:aws"]["urn"]
    assert all(r["provider"].startswith(provider_urn) for r in aws_custom)
    # the Azure wrapper was constructed without options: its IP Groups are not protected; its rule collection groups
    # are, by the component's own default for a policy the stack does not create (azure.onDelete.groups)
    azure_custom = [r for r in constructed["records"] if r["type"].startswith("azure-native:network:")]
    ip_groups = [r for r in azure_custom if r["type"] == "azure-native:network:IpGroup"]
    groups = [r for r in azure_custom if r["type"] == "azure-native:network:FirewallPolicyRuleCollectionGroup"]
    assert ip_groups and groups and len(ip_groups) + len(groups) == len(azure_custom)
    assert not any(r["protect"] for r in ip_groups) and all(r["protect"] for r in groups)


def test_dns_settings_give_the_dns_layer_under_the_wrapper_with_the_consumers_options(constructed):
    records = constructed["records"]
    by_type = {r["type"]: r for r in records}
    wrapper, dns = by_type["endpoint-firewall:index:AwsEgressRules"], by_type["endpoint-firewall:aws:DnsFirewall"]
    assert dns["name"] == "app-aws-dns" and dns["parent"] == wrapper["urn"]
    children = [r for r in records if r["type"].startswith("aws:route53/")]
    assert {r["type"].rsplit(":", 1)[-1] for r in children} == {
        "ResolverFirewallDomainList",
        "ResolverFirewallRuleGroup",
        "ResolverFirewallRule",
        "ResolverFirewallRuleGroupAssociation",
        "ResolverFirewallConfig",
    }
    assert all(r["parent"] == dns["urn"] and r["protect"] for r in children)
    domains = [d for r in children if r["type"].endswith("DomainList") for d in r["inputs"]["domains"]]
    assert "api.app.example.com" in domains and "other.app.example.com" not in domains
    assert "mode" in constructed["results"]["aws_dns"]  # the layer's outputs, in the wrapper's rules output
    azure = by_type["endpoint-firewall:azure:DnsSecurityPolicy"]
    assert azure["parent"] == by_type["endpoint-firewall:index:AzureEgressRules"]["urn"]
    assert {r["type"] for r in records if r["parent"] == azure["urn"]} == {
        "azure-native:dnsresolver:DnsResolverPolicy",
        "azure-native:dnsresolver:DnsResolverDomainList",
        "azure-native:dnsresolver:DnsSecurityRule",
        "azure-native:dnsresolver:DnsResolverPolicyVirtualNetworkLink",
    }


def test_bad_args_fail_before_anything_is_registered():
    from endpoint_firewall.components.consumer_args import plan_from_args
    from endpoint_firewall.endpoints.errors import CatalogueError

    with pytest.raises(CatalogueError, match="sourceRanges"):
        plan_from_args({"source_ranges": ["0.0.0.0/0"], "aws": {}}, "aws", "AwsEgressRules x")
    with pytest.raises(CatalogueError, match="unknown service area 'nope'"):
        plan_from_args(
            {"source_ranges": ["10.0.0.0/8"], "aws": {}, "selection": {"service_areas": ["nope"]}},
            "aws",
            "AwsEgressRules x",
        )
    with pytest.raises(CatalogueError, match="catalogueYaml\\[0\\]"):
        plan_from_args(
            {"source_ranges": ["10.0.0.0/8"], "aws": {}, "catalogue_yaml": ["schema_version: 2\n"]},
            "aws",
            "AwsEgressRules x",
        )


def test_plugin_files():
    assert (ROOT / "PulumiPlugin.yaml").read_text(encoding="utf-8").strip().endswith("runtime: python")
    assert provider.main.__module__ == "endpoint_firewall.components.provider"


def _serve_schema(cmd: list[str]) -> dict:
    """Start the plugin as the engine does (``<command> <engine address>``), read its port, ask for the schema."""
    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    proc = subprocess.Popen(cmd + ["127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    try:
        port = proc.stdout.readline().strip()
        # no port: the process printed something else, or closed its output and is ending (its errors say why)
        assert port.isdigit(), port or proc.communicate(timeout=60)[1][-3000:]
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        response = provider_pb2_grpc.ResourceProviderStub(channel).GetSchema(
            provider_pb2.GetSchemaRequest(version=0), timeout=60
        )
        channel.close()
        return json.loads(response.schema)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_provider_entry_serves_the_schema_over_grpc():
    schema = _serve_schema([sys.executable, "-m", "endpoint_firewall.components.provider"])
    assert schema["name"] == "endpoint-firewall" and set(schema["resources"]) == {AZURE, AWS}
    # one source of truth: pyproject.toml's version is the schema's, as it is epfw --version's
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert schema["version"] == provider.version() == pyproject["project"]["version"]


def test_repository_root_runs_as_the_plugin():
    """What the plugin host runs for PulumiPlugin.yaml: ``python <repository> <engine address>``."""
    schema = _serve_schema([sys.executable, str(ROOT)])
    assert set(schema["resources"]) == {AZURE, AWS}
