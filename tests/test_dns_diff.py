"""``epfw diff`` of two renders shows the DNS layer's changes at the level a reviewer reads them: names added to a
domain list, a catch-all going from alert to block; updates in place, not replacements."""

from __future__ import annotations

import json
import shutil

from conftest import ROOT

from endpoint_firewall.cli.main import main


def render(tmp_path, name: str, edit=None) -> str:
    project = tmp_path / f"project-{name}"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(edit(text) if edit else text, encoding="utf-8")
    out = tmp_path / f"out-{name}"
    assert main(["render", "--project", str(project), "--stack", "dev", "--out", str(out), "--quiet"]) == 0
    return str(out)


def test_a_new_name_and_block_mode_are_updates_of_one_list_and_one_rule_per_cloud(tmp_path, capsys):
    before = render(tmp_path, "a")
    after = render(
        tmp_path,
        "b",
        lambda t: t.replace("mode: alert", "mode: block").replace(
            '"*.corp.example.com"]', '"*.corp.example.com", ad.example.net]'
        ),
    )
    capsys.readouterr()
    assert main(["diff", before, after, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["counts"] == {"added": 0, "removed": 0, "updated": 4, "replaced": 0}
    by_type = {c["type"].split(":")[-1]: c for c in result["changes"]}
    for kind in ("ResolverFirewallDomainList", "DnsResolverDomainList"):
        assert by_type[kind]["added"] == {"domains": ["ad.example.net"]} and by_type[kind]["removed"] == {}
    aws_rule = by_type["ResolverFirewallRule"]
    assert aws_rule["added"]["action"] == ["BLOCK"] and aws_rule["removed"]["action"] == ["ALERT"]
    assert aws_rule["added"]["blockResponse"] == ["NODATA"]
    azure_rule = by_type["DnsSecurityRule"]
    assert azure_rule["added"]["action.actionType"] == ["Block"]
