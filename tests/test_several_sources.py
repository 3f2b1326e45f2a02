"""A host two documents name stays one target of one rule, and the render's summary and `epfw catalogue diff` say
which sources name it (the Intune page and the Autopilot page both list the firmware TPM vendors and NTP)."""

from __future__ import annotations

import json
from pathlib import Path

from endpoint_firewall.catalogue_tools.diff import diff_catalogues
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.loader import load_catalogue, shipped_catalogue_files
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.planning.sources import several_sources
from endpoint_firewall.program.render import render_stack

ROOT = Path(__file__).resolve().parents[1]


def catalogue_file(path: Path, source: str, entries: str) -> Path:
    path.write_text(
        f"""schema_version: 1
sources:
  - {{id: {source}, title: {source}, url: 'https://example.org/{source}', date: 2026-01-01}}
service_areas:
  - {{id: boot, title: First boot, priority: 1000}}
  - {{id: core, title: Core, priority: 1100}}
entries:
{entries}""",
        encoding="utf-8",
    )
    return path


def entry(entry_id: str, source: str, area: str, hosts: str, services: str = "[{protocol: https, port: 443}]") -> str:
    return (
        f"  - {{id: {entry_id}, service_area: {area}, description: d, destinations: [{hosts}], services: {services}, "
        f"provenance: {{source: {source}, section: s}}}}\n"
    )


def two_sources(tmp_path: Path) -> list[Path]:
    return [
        catalogue_file(
            tmp_path / "a.yaml",
            "page-a",
            entry("a-tpm", "page-a", "boot", "ekop.intel.com, ftpm.amd.com")
            + entry("a-login", "page-a", "core", "login.live.com"),
        ),
        catalogue_file(
            tmp_path / "b.yaml",
            "page-b",
            entry("b-tpm", "page-b", "boot", "ekop.intel.com, ztd.dds.microsoft.com")
            + entry("b-login", "page-b", "boot", "login.live.com")  # another area than page-a's: another rule
            + entry("b-http", "page-b", "boot", "ftpm.amd.com", "[{protocol: http, port: 80}]"),  # other services
        ),
    ]


def test_a_host_of_two_sources_in_one_area_and_service_set_is_one_target_named_with_both(tmp_path):
    catalogue = load_catalogue(two_sources(tmp_path))
    plan = build_plan(catalogue, Selection(), ["10.0.0.0/16"])
    boot = next(r for r in plan.rules if r.name == "boot-fqdn-https443")
    assert boot.destinations.count("ekop.intel.com") == 1
    assert boot.origin_of("ekop.intel.com") == ("a-tpm", "b-tpm")
    shared = several_sources(plan, catalogue)
    assert [(s.rule, s.destination, s.sources, s.entries) for s in shared] == [
        ("boot-fqdn-https443", "ekop.intel.com", ("page-a", "page-b"), ("a-tpm", "b-tpm"))
    ]  # login.live.com: two areas, two rules; ftpm.amd.com: https 443 and http 80, two rules; each of one source


def test_the_dev_summary_names_the_hosts_both_pages_list_and_prod_s_summary_has_no_such_key(tmp_path):
    dev = render_stack("dev", ROOT).summary()
    named = {(s["rule"], s["destination"]): (s["sources"], s["entries"]) for s in dev["severalSources"]}
    assert named == {
        ("autopilot-dnsfqdn-udp123", "time.windows.com"): (
            ["autopilot-page", "intune-page"],
            ["autopilot-ntp", "intune-165"],
        ),
        **{
            ("autopilot-fqdn-https443", host): (
                ["autopilot-page", "intune-page"],
                ["autopilot-tpm-attestation", "intune-173"],
            )
            for host in ("ekop.intel.com", "ekcert.spserv.microsoft.com", "ftpm.amd.com")
        },
    }
    assert "severalSources" not in render_stack("prod", ROOT).summary()  # prod: every target from one source


def test_catalogue_diff_names_hosts_a_second_source_now_names(tmp_path, capsys):
    a, b = two_sources(tmp_path)
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    (old_dir / "a.yaml").write_text(a.read_text(encoding="utf-8"), encoding="utf-8")
    for f in (a, b):
        (new_dir / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["catalogue", "diff", str(old_dir), str(new_dir)]) == 0
    out = capsys.readouterr().out
    section = out[out.index("destinations now named by more than one source") :].splitlines()
    assert section[1:] == [
        "  ekop.intel.com: page-a (a-tpm); page-b (b-tpm)",
        "  ftpm.amd.com: page-a (a-tpm); page-b (b-http)",
        "  login.live.com: page-a (a-login); page-b (b-login)",
    ]
    assert main(["catalogue", "diff", str(old_dir), str(new_dir), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)["destinations"]["several_sources"]
    assert data["ekop.intel.com"] == {"page-a": ["a-tpm"], "page-b": ["b-tpm"]}
    # once both sources name them on both sides, a diff no longer lists them
    same = diff_catalogues(load_catalogue([a, b]), load_catalogue([a, b]))
    assert same.destinations.several_sources == ()


def test_the_shipped_catalogue_against_the_intune_files_alone_names_the_five_hosts_both_pages_list():
    files = shipped_catalogue_files()
    without = [p for p in files if p.name != "autopilot.yaml"]
    diff = diff_catalogues(load_catalogue(without), load_catalogue(files))
    assert {value: tuple(s for s, _ in by) for value, by in diff.destinations.several_sources} == {
        host: ("autopilot-page", "intune-page")
        for host in (
            "ekcert.spserv.microsoft.com",
            "ekop.intel.com",
            "ftpm.amd.com",
            "login.live.com",
            "time.windows.com",
        )
    }
