"""epfw render / diff / preview: exactly what the stack deploys, all-or-nothing, rule-level diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, clone_with_change

from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.loader import shipped_catalogue_files
from endpoint_firewall.program.render import RENDER_MARKER, render_stack


def render(tmp_path: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    assert main(["render", "--project", str(ROOT), "--stack", "dev", "--out", str(out), "--quiet", *extra]) == 0
    return out


def catalogue_with(tmp_path: Path, name: str, edit) -> Path:
    intune = next(p for p in shipped_catalogue_files() if p.name == "intune.yaml")
    data = yaml.safe_load(intune.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def entry(data: dict, entry_id: str) -> dict:
    return next(e for e in data["entries"] if e["id"] == entry_id)


def test_render_writes_exactly_what_the_render_functions_return(tmp_path):
    out = render(tmp_path, "dev")
    on_disk = {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}
    assert on_disk.pop(RENDER_MARKER)  # the mark that lets the next render replace this folder
    assert on_disk == render_stack("dev", ROOT).files()
    assert any(k.startswith("azure/") and k.endswith(".json") for k in on_disk)
    assert any(k.startswith("aws/") and k.endswith(".rules") for k in on_disk)
    summary = json.loads(on_disk["summary.json"])
    assert summary["stack"] == "dev" and summary["azure"] and summary["aws"]
    assert {s["entry"] for s in summary["skipped"]} >= {"apple-references", "android-enterprise"}


def test_render_is_byte_identical_run_to_run(tmp_path):
    a, b = render(tmp_path, "a"), render(tmp_path, "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_a_failing_render_writes_nothing_and_leaves_the_old_folder_alone(tmp_path, capsys):
    out = render(tmp_path, "dev")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = catalogue_with(tmp_path, "bad.yaml", lambda d: entry(d, "intune-171")["destinations"].append("*.com"))
    code = main(["render", "--project", str(ROOT), "--stack", "dev", "--catalogue", str(bad), "--out", str(out)])
    assert code == 1
    assert "public suffix 'com'" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


BAD_FILE = """schema_version: 1
sources: [{id: other, title: Other, url: "https://example.org/", date: 2020-01-01}]
service_areas: [{id: other-area, title: Other, priority: 3000}]
entries:
  - id: other-entry
    service_area: other-area
    description: a destination that is no name
    destinations: [a..b.example.com]
    services: [{protocol: https, port: 443}]
    provenance: {source: other, section: x}
"""


def test_a_bad_file_beside_a_good_one_fails_the_render_naming_it_and_writes_nothing(tmp_path, capsys):
    good = catalogue_with(tmp_path, "good.yaml", lambda d: None)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_FILE, encoding="utf-8")
    earlier = render(tmp_path, "earlier", "--catalogue", str(good))  # the good file alone renders
    before = {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()}
    new = tmp_path / "new"
    for out in (new, earlier):
        code = main(
            ["render", "--project", str(ROOT), "--stack", "dev", "--catalogue", str(good), str(bad), "--out", str(out)]
        )
        assert code == 1
        assert capsys.readouterr().err.splitlines() == [
            f"{bad}:8: entries[0].destinations[0]: 'a..b.example.com': empty label"
        ]
    assert not new.exists()
    assert {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "earlier", "good.yaml"]  # nothing staged


def test_catalogue_option_renders_every_entry_of_those_files(tmp_path):
    only = catalogue_with(tmp_path, "only.yaml", lambda d: d.update(entries=[entry(d, "intune-171")]))
    out = render(tmp_path, "only", "--catalogue", str(only))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["entries"] == 1
    texts = "".join(p.read_text() for p in (out / "azure").glob("*.json"))
    assert "*.notify.windows.com" in texts and "manage.microsoft.com" not in texts


def test_diff_of_a_one_fqdn_change_shows_exactly_that_fqdn_in_one_group_per_cloud(tmp_path, capsys):
    old = catalogue_with(tmp_path, "old.yaml", lambda d: None)
    new = catalogue_with(
        tmp_path, "new.yaml", lambda d: entry(d, "intune-173")["destinations"].append("extra.example.com")
    )
    a = render(tmp_path, "a", "--catalogue", str(old))
    b = render(tmp_path, "b", "--catalogue", str(new))
    capsys.readouterr()
    assert main(["diff", str(a), str(b), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["counts"]["replaced"] == 0 and result["counts"]["added"] == 0 and result["counts"]["removed"] == 0
    changes = result["changes"]
    # per cloud: the one rule group that lists the name, and the DNS layer's one list of allowed names
    assert sorted(c["type"] for c in changes) == [
        "aws:networkfirewall/ruleGroup:RuleGroup",
        "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList",
        "azure-native:dnsresolver:DnsResolverDomainList",
        "azure-native:network:FirewallPolicyRuleCollectionGroup",
    ]
    for change in changes:
        assert change["status"] == "updated"
        added = [v for values in change["added"].values() for v in values]
        removed = [v for values in change["removed"].values() for v in values]
        assert added and all("extra.example.com" in v for v in added), change
        assert removed == [], change


def test_diff_markdown_is_a_pull_request_comment(tmp_path, capsys):
    a = render(tmp_path, "a")
    capsys.readouterr()
    assert main(["diff", str(a), str(a), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("### Rule changes") and "No rule changes." in text


def test_preview_runs_the_real_program_under_mocks(capsys):
    assert main(["preview", "--project", str(ROOT), "--stack", "dev", "--format", "json"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    types = {r["type"] for r in resources}
    assert "azure-native:network:FirewallPolicyRuleCollectionGroup" in types
    assert "aws:networkfirewall/ruleGroup:RuleGroup" in types
    assert "endpoint-firewall:azure:FirewallRules" in types


@pytest.fixture
def clone(tmp_path):
    """A git clone of this repository's HEAD with one more commit that adds one FQDN."""

    def add_fqdn(repo: Path) -> None:
        catalogue = repo / "endpoint_firewall" / "endpoints" / "catalogue" / "apple.yaml"
        text = catalogue.read_text(encoding="utf-8")
        catalogue.write_text(
            text.replace("      - ocsp.apple.com\n", "      - ocsp.apple.com\n      - extra.apple.com\n"),
            encoding="utf-8",
        )

    return clone_with_change(tmp_path, add_fqdn, "add extra.apple.com")


def test_preview_against_a_base_ref_shows_the_one_fqdn(clone, capsys):
    assert main(["preview", "--project", str(clone), "--stack", "dev", "--base", "HEAD~1", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # per cloud the one rule group and the DNS layer's one list of allowed names
    assert result["counts"] == {"added": 0, "removed": 0, "updated": 4, "replaced": 0}
    assert {c["type"].split(":")[1] for c in result["changes"]} == {
        "networkfirewall/ruleGroup",
        "route53/resolverFirewallDomainList",
        "network",
        "dnsresolver",
    }
    for change in result["changes"]:
        assert any("extra.apple.com" in v for values in change["added"].values() for v in values)


def test_preview_against_an_unknown_ref_is_a_one_line_error(clone, capsys):
    assert main(["preview", "--project", str(clone), "--stack", "dev", "--base", "no-such-ref"]) == 1
    assert "cannot read git ref 'no-such-ref'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "destinations, services, fragment",
    [
        ("[tcp-only.example.org]", "[{protocol: tcp, port: 5000}]", "dnsProxy"),
        ("[0.0.0.0/1, 128.0.0.0/1]", "[{protocol: tcp, port: 443}]", "together cover every address"),
    ],
    ids=["fqdn-network-rule-without-dns-proxy", "merged-into-any"],
)
def test_plan_and_render_errors_are_one_line_and_write_nothing(tmp_path, capsys, destinations, services, fragment):
    catalogue = tmp_path / "c.yaml"
    catalogue.write_text(f"""schema_version: 1
sources: [{{id: s, title: t, url: "https://example.org/", date: 2020-01-01}}]
service_areas: [{{id: a, title: A, priority: 3000}}]
entries:
  - id: e
    service_area: a
    description: d
    destinations: {destinations}
    services: {services}
    provenance: {{source: s, section: x}}
""")
    out = tmp_path / "out"
    assert (
        main(["render", "--project", str(ROOT), "--stack", "prod", "--catalogue", str(catalogue), "--out", str(out)])
        == 1
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("epfw: ") and fragment in err[0], err
    assert not out.exists()
