"""allow_any, one decision everywhere: an entry with allow_any and a written justification is an explicit, reviewed
exception. It validates and renders; the guardrails (epfw preview, and the CrossGuard pack with the render's
policy-config.json) report the rules it opens as advisory findings named with the justification. A rule that reaches
every destination without such an entry stays a mandatory no-allow-any violation."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall import guardrails as guard
from endpoint_firewall.cli.main import main
from endpoint_firewall.program.allow_any import POLICY_CONFIG_FILE

WHY = "isolated lab network with no production data"

CATALOGUE = f"""schema_version: 1
sources: [{{id: lab, title: Lab, url: "https://example.org/lab", date: 2026-01-01}}]
service_areas: [{{id: lab, title: Lab, priority: 3000}}]
entries:
  - id: lab-anything
    service_area: lab
    description: A lab exception that reaches every address and name
    destinations: [0.0.0.0/0, "*"]
    services: [{{protocol: tcp, port: 443}}, {{protocol: https, port: 443}}]
    allow_any: {{justification: {WHY}}}
    provenance: {{source: lab, section: lab}}
  - id: lab-web
    service_area: lab
    description: an ordinary entry
    destinations: [www.example.org]
    services: [{{protocol: https, port: 8443}}]
    provenance: {{source: lab, section: lab}}
"""


@pytest.fixture()
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    for f in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / f, root / f)
    (root / "any.yaml").write_text(CATALOGUE)
    (root / "stacks" / "Pulumi.lab.yaml").write_text("""config:
  endpoint-firewall:sourceRanges: [10.30.0.0/16]
  endpoint-firewall:catalogue: [any.yaml]
  endpoint-firewall:aws: {namePrefix: lab}
  endpoint-firewall:azure: {resourceGroupName: rg, policyName: fwpol}
""")
    return root


def test_it_validates(project, capsys):
    assert main(["validate", str(project / "any.yaml")]) == 0, capsys.readouterr().err


def test_it_renders_with_the_pack_config_for_crossguard(project, tmp_path):
    out = tmp_path / "out"
    assert main(["render", "--project", str(project), "--stack", "lab", "--out", str(out), "--quiet"]) == 0
    config = json.loads((out / POLICY_CONFIG_FILE).read_text())
    assert set(config) == {"no-allow-any", "allow-any-exception"}
    exceptions = config["no-allow-any"]["allowAnyExceptions"]
    assert exceptions == config["allow-any-exception"]["allowAnyExceptions"]
    assert exceptions and all(v == f"entry lab-anything: {WHY}" for v in exceptions.values())
    assert json.loads((out / "summary.json").read_text())["allowAnyExceptions"] == exceptions
    azure = json.loads(next(p for p in sorted((out / "azure").glob("*.json")) if p.name != "template.json").read_text())
    wide = [
        r["name"]
        for c in azure["properties"]["ruleCollections"]
        for r in c["rules"]
        if "0.0.0.0/0" in r.get("destinationAddresses", []) or "*" in r.get("targetFqdns", [])
    ]
    assert wide and set(wide) <= set(exceptions)  # every rule that reaches everything is declared
    assert not any("8443" in name for name in exceptions)  # the ordinary entry's rule is not


def test_preview_reports_it_as_an_advisory_exception_and_passes(project, capsys):
    assert main(["preview", "--project", str(project), "--stack", "lab", "--format", "json"]) == 0
    err = capsys.readouterr().err.splitlines()
    advisories = [line for line in err if line.startswith("policy: [advisory] allow-any-exception: ")]
    assert advisories and all(f"(allow_any exception: entry lab-anything: {WHY})" in line for line in advisories)
    clouds = {line.split(": ")[2].split(" ")[0] for line in advisories}
    assert clouds == {"FirewallPolicyRuleCollectionGroup", "RuleGroup"}
    assert not [line for line in err if "[mandatory]" in line], err


def _resources(project: Path) -> list[dict]:
    from endpoint_firewall.preview import mock_runner

    return mock_runner.run_program(project, "lab")


def test_the_same_rules_without_the_declared_exception_are_mandatory(project):
    resources = _resources(project)
    mandatory = [v for v in guard.validate_resources(resources) if v.mandatory]
    assert {v.policy for v in mandatory} == {"no-allow-any"}
    assert {v.resource_type.rsplit(":", 1)[-1] for v in mandatory} == {"FirewallPolicyRuleCollectionGroup", "RuleGroup"}


def test_a_rule_the_catalogue_did_not_justify_stays_mandatory(project):
    """A declared exception covers its own rules only: a wide rule added by hand next to them is refused."""
    from endpoint_firewall.config.stack_config import load_stack_file, stack_file
    from endpoint_firewall.program.allow_any import allow_any_exceptions, policy_config
    from endpoint_firewall.program.stack_plan import load_selected

    config = load_stack_file(stack_file(project, "lab"))
    config_for_guard = policy_config(allow_any_exceptions(*load_selected(config, project, "lab")))
    resources = copy.deepcopy(_resources(project))
    group = next(r for r in resources if r["type"] == guard.AZURE_GROUP)
    network = next(c for c in group["inputs"]["ruleCollections"] if c["name"] == "network")
    network["rules"].append({**network["rules"][0], "name": "hand-written-any"})
    violations = guard.validate_resources(resources, config_for_guard)
    mandatory = [str(v) for v in violations if v.mandatory]
    assert len(mandatory) == 1 and "hand-written-any" in mandatory[0], mandatory
    assert any(v.policy == "allow-any-exception" and not v.mandatory for v in violations)


def test_the_crossguard_pack_reads_the_same_config():
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is not installed")
    from test_policy import run_resource_policy  # the pack's own policies over CrossGuard's argument objects

    props = {
        "firewallPolicyName": "fwpol",
        "priority": 3000,
        "ruleCollections": [
            {
                "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                "name": "network",
                "priority": 100,
                "action": {"type": "Allow"},
                "rules": [
                    {
                        "ruleType": "NetworkRule",
                        "name": "lab-ip-tcp443",
                        "ipProtocols": ["TCP"],
                        "sourceAddresses": ["10.30.0.0/16"],
                        "destinationAddresses": ["0.0.0.0/0"],
                        "destinationPorts": ["443"],
                    }
                ],
            }
        ],
    }
    config = {"allowAnyExceptions": {"lab-ip-tcp443": f"entry lab-anything: {WHY}"}}
    assert run_resource_policy("no-allow-any", guard.AZURE_GROUP, props)  # undeclared: the mandatory policy
    assert run_resource_policy("no-allow-any", guard.AZURE_GROUP, props, config) == []
    [advisory] = run_resource_policy("allow-any-exception", guard.AZURE_GROUP, props, config)
    assert advisory.endswith(f"(allow_any exception: entry lab-anything: {WHY})")
