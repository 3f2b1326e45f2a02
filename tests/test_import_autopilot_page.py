"""epfw import autopilot-page: the Networking tab of Microsoft's "Windows Autopilot requirements" page as a catalogue.

The real page is the copy the repository keeps (Learn's rendering, ms.date 2025-07-08) and the memdocs source of
2024-11-25 under tests/fixtures/autopilot; the small pages below each show one rule of the import.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from endpoint_firewall.catalogue_tools.diff import diff_catalogues
from endpoint_firewall.catalogue_tools.dump import dump_catalogue
from endpoint_firewall.catalogue_tools.importers import autopilot_page, page_fixups
from endpoint_firewall.catalogue_tools.importers.learn_page import PageImport
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue, shipped_catalogue_files
from endpoint_firewall.endpoints.models import EntryKind

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "endpoint_firewall" / "endpoints" / "catalogue"
COMMITTED_PAGE = CATALOGUE / "sources" / "autopilot-requirements.md"
OLDER_PAGE = ROOT / "tests" / "fixtures" / "autopilot" / "requirements-2024-11-25.memdocs.md"

HEAD = """---
title: Windows Autopilot requirements
ms.date: 11/25/2024
---

# Windows Autopilot requirements

## [:::image type="icon" source="images/icons/wifi-ethernet-18.svg"::: **Networking**](#tab/networking)

### Networking requirements

- Allow access to all hosts via port 80 (HTTP), 443 (HTTPS), and 123 (UDP/NTP).

#### Service requirements

"""
TAIL = """
## [:::image type="icon" source="images/icons/license-18.svg"::: **Licensing**](#tab/licensing)

### Licensing requirements

- `https://licensing.example.com` is outside the Networking tab.

---
"""
DEPLOYMENT = """##### Windows Autopilot Deployment Service

- `https://ztd.dds.microsoft.com`
"""


def page(*sections: str) -> str:
    return HEAD + "\n".join(sections) + TAIL


def run(text: str, fixups: page_fixups.Fixups = page_fixups.NO_FIXUPS) -> PageImport:
    return autopilot_page.import_page(text, "page.md", fixups)


def reports(result: PageImport) -> list[tuple[int, str]]:
    return [(r.line, r.message) for r in result.reports]


def entries(result: PageImport) -> dict:
    return {e.id: e for e in result.catalogue.entries}


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


def shipped_fixups() -> page_fixups.Fixups:
    return page_fixups.load_fixups(page_fixups.shipped_fixups_path("autopilot-page"))


# --- the real page ---------------------------------------------------------------------------------------------


def test_the_shipped_catalogue_is_the_import_of_the_committed_page_byte_for_byte():
    """autopilot.yaml changes only through the importer (or its fix-ups) and a reviewed diff; regenerated here from
    the page copy the repository keeps, which a refresh replaces together with it."""
    result = autopilot_page.import_file(COMMITTED_PAGE, shipped_fixups())
    (shipped,) = [p for p in shipped_catalogue_files() if p.name == "autopilot.yaml"]
    assert dump_catalogue(result.catalogue, result.header()) == shipped.read_text(encoding="utf-8"), (
        "regenerate: epfw import autopilot-page endpoint_firewall/endpoints/catalogue/sources/autopilot-requirements.md "
        "--out endpoint_firewall/endpoints/catalogue/autopilot.yaml"
    )


def test_the_real_page_gives_the_services_hosts_on_their_stated_ports_and_the_link_only_sections_as_references():
    result = autopilot_page.import_file(COMMITTED_PAGE, shipped_fixups())
    got = entries(result)
    endpoints = {
        i: ({d.value for d in e.destinations}, {str(s) for s in e.services})
        for i, e in got.items()
        if e.kind is EntryKind.ENDPOINTS
    }
    assert endpoints == {
        "autopilot-deployment-service": ({"ztd.dds.microsoft.com", "login.live.com"}, {"https:443"}),
        "autopilot-diagnostics-upload": ({"lgmsapeweu.blob.core.windows.net"}, {"https:443"}),
        "autopilot-ntp": ({"time.windows.com"}, {"udp:123"}),
        "autopilot-ncsi": ({"*.msftconnecttest.com"}, {"http:80"}),
        "autopilot-tpm-attestation": (
            {"*.microsoftaik.azure.net", "ekop.intel.com", "ekcert.spserv.microsoft.com", "ftpm.amd.com"},
            {"https:443"},
        ),
    }
    references = {i for i, e in got.items() if e.kind is EntryKind.REFERENCE}
    assert {"autopilot-activation", "autopilot-microsoft-365", "autopilot-crls", "autopilot-entra-id"} <= references
    assert {"dns", "proxy-settings"}.isdisjoint(i.removeprefix("autopilot-") for i in got)  # no host, no link
    optional = {i for i, e in got.items() if not e.required}  # "... the Autopilot process still continues"
    assert optional == {
        "autopilot-windows-update",
        "autopilot-delivery-optimization",
        "autopilot-diagnostics-data",
        "autopilot-wns",
        "autopilot-microsoft-store",
    }
    source = result.catalogue.sources[0]
    assert (source.id, source.title, str(source.date)) == (
        "autopilot-page",
        "Windows Autopilot requirements",
        "2025-07-08",
    )
    assert [(a.id, a.priority) for a in result.catalogue.service_areas] == [("autopilot", 1650)]


def test_the_real_page_reports_every_url_reduced_to_a_host_and_every_port_taken_by_default_at_its_line():
    text = COMMITTED_PAGE.read_text(encoding="utf-8")
    got = reports(autopilot_page.import_file(COMMITTED_PAGE, shipped_fixups()))
    for url, host in (
        ("https://ztd.dds.microsoft.com", "ztd.dds.microsoft.com"),
        ("https://login.live.com", "login.live.com"),
        ("https://ekop.intel.com/ekcertservice", "ekop.intel.com"),
        ("https://ekcert.spserv.microsoft.com/EKCertificate/GetEKCertificate/v1", "ekcert.spserv.microsoft.com"),
        ("https://ftpm.amd.com/pki/aia", "ftpm.amd.com"),
    ):
        assert (line_of(text, f"`{url}`"), f"{url} is a URL: its host {host} is imported on https 443") in got
    assert (
        line_of(text, "lgmsapeweu"),
        "lgmsapeweu.blob.core.windows.net in #windows-autopilot-automatic-device-diagnostics-collection: "
        "the page states no protocol or port for it; https 443 taken",
    ) in got
    assert (
        line_of(text, "##### Domain Name Services (DNS)"),
        "section 'Domain Name Services (DNS)' names no host and links to no document; nothing imported",
    ) in got
    assert any(
        line == line_of(text, "##### Windows Activation") and "reference entry autopilot-activation" in m
        for line, m in got
    )


def test_crlf_line_ends_give_the_same_catalogue_and_lines():
    text = COMMITTED_PAGE.read_text(encoding="utf-8")
    lf = autopilot_page.import_page(text, "page.md")
    crlf = autopilot_page.import_page(text.replace("\n", "\r\n"), "page.md")
    assert crlf.catalogue == lf.catalogue and crlf.reports == lf.reports


def to_memdocs(learn: str) -> str:
    """The committed (Learn) page written the way its memdocs source writes it: US ms.date, the title without
    Learn's suffix, DocFX tab headings with their icons, notes as ``> [!NOTE]`` blocks, links without /en-us."""
    text = re.sub(
        r"^ms\.date: (\d{4})-(\d\d)-(\d\d)T.*$", lambda m: f"ms.date: {m[2]}/{m[3]}/{m[1]}", learn, flags=re.M
    )
    text = text.replace(
        "title: Windows Autopilot requirements | Microsoft Learn", "title: Windows Autopilot requirements"
    )
    text = re.sub(
        r"^# \[(\w+)\]\(#tab/(\w+)\)\n",
        lambda m: f'## [:::image type="icon" source="images/icons/{m[2]}-18.svg"::: **{m[1]}**](#tab/{m[2]})\n\n',
        text,
        flags=re.M,
    )
    text = re.sub(r"^(Note|Important|Tip)\n\n(.+)$", lambda m: f"> [!{m[1].upper()}]\n>\n> {m[2]}", text, flags=re.M)
    return text.replace("](/en-us/", "](/")


def test_learns_rendering_and_memdocs_source_of_one_page_give_the_same_entries():
    learn = COMMITTED_PAGE.read_text(encoding="utf-8")
    memdocs = to_memdocs(learn)
    assert "## [:::image" in memdocs and "> [!NOTE]" in memdocs and "ms.date: 07/08/2025" in memdocs
    a, b = autopilot_page.import_page(learn, "learn.md"), autopilot_page.import_page(memdocs, "memdocs.md")
    assert without_lines(b) == without_lines(a)  # the lines differ: memdocs writes a note on three
    assert b.catalogue.sources == a.catalogue.sources


def without_lines(result: PageImport) -> list:
    return [
        e.model_copy(update={"provenance": e.provenance.model_copy(update={"line": None})})
        for e in result.catalogue.entries
    ]


def test_the_2024_memdocs_source_gives_cs_dds_and_the_diff_to_the_2025_page_closes_it(tmp_path):
    older = autopilot_page.import_file(OLDER_PAGE)
    assert str(older.catalogue.sources[0].date) == "2024-11-25"
    deployment = entries(older)["autopilot-deployment-service"]
    assert [d.value for d in deployment.destinations] == [
        "ztd.dds.microsoft.com",
        "cs.dds.microsoft.com",
        "login.live.com",
    ]
    newer = autopilot_page.import_file(COMMITTED_PAGE)
    files = []
    for name, result in (("old.yaml", older), ("new.yaml", newer)):
        files.append(tmp_path / name)
        files[-1].write_text(dump_catalogue(result.catalogue, result.header()), encoding="utf-8")
    diff = diff_catalogues(load_catalogue([files[0]]), load_catalogue([files[1]]))
    assert diff.destinations.closed == ("cs.dds.microsoft.com",)
    assert not diff.entries.added and not diff.entries.removed  # renamed headings keep their entry ids
    changed = {c.id: {f.field for f in c.changes} for c in diff.entries.changed}
    assert "destinations" in changed["autopilot-deployment-service"]
    assert "provenance.section" in changed["autopilot-diagnostics-upload"]  # "Autopilot ..." -> "Windows Autopilot ..."


# --- one rule per page -------------------------------------------------------------------------------------------


def test_stated_protocols_and_ports_per_value_and_a_url_with_a_port():
    text = page(
        DEPLOYMENT,
        "##### Time\n\nEnsure that UDP port **123** to `time.example.com` is accessible.\n",
        "##### Probe\n\n`*.probe.example.com` must be resolvable via DNS and accessible via HTTP.\n",
        "##### Relay\n\nOpen TCP port 8443 to `relay.example.com`; the console is at `https://console.example.com:4443/x`.\n",
    )
    got = {i: {str(s) for s in e.services} for i, e in entries(run(text)).items()}
    assert got["autopilot-deployment-service"] == {"https:443"}
    assert got["autopilot-time"] == {"udp:123"}
    assert got["autopilot-probe"] == {"http:80"}
    assert got["autopilot-relay-tcp8443"] == {"tcp:8443"} and got["autopilot-relay-https4443"] == {"https:4443"}


def test_a_value_twice_mixed_case_in_two_sections_and_a_sentence_host_are_reported():
    text = page(
        "##### Windows Autopilot Deployment Service\n\n- `https://ZTD.dds.microsoft.com`\n- `ztd.dds.microsoft.com`\n",
        "##### Other\n\nAlso `ztd.dds.microsoft.com`, and see status.example.com for outages.\n",
    )
    result = run(text)
    got = reports(result)
    first = line_of(text, "ZTD")
    assert (first, "ZTD.dds.microsoft.com is written in mixed case; imported as ztd.dds.microsoft.com") in got
    assert (
        first + 1,
        f"ztd.dds.microsoft.com is listed twice in #windows-autopilot-deployment-service (also line {first}); kept once",
    ) in got
    other = line_of(text, "status.example.com")
    assert (
        other,
        f"ztd.dds.microsoft.com is also in #windows-autopilot-deployment-service (line {first}); kept in both",
    ) in got
    assert (other, "status.example.com is named in a sentence of #other (no backticks); not imported: review it") in got
    assert [d.value for d in entries(result)["autopilot-deployment-service"].destinations] == ["ztd.dds.microsoft.com"]
    assert "status.example.com" not in {d.value for e in result.catalogue.entries for d in e.destinations}


def test_a_trailing_dot_is_reported_as_such_and_mixed_case_only_where_there_is_case():
    text = page("##### Windows Autopilot Deployment Service\n\n- `ztd.dds.microsoft.com.`\n- `Foo.example.com.`\n")
    result = run(text)
    got = {message for _, message in reports(result)}
    assert "ztd.dds.microsoft.com. is written with a trailing dot; imported as ztd.dds.microsoft.com" in got
    assert not any(m.startswith("ztd.dds.microsoft.com. is written in mixed case") for m in got)
    assert "Foo.example.com. is written in mixed case; imported as foo.example.com" in got
    assert "Foo.example.com. is written with a trailing dot; imported as foo.example.com" in got
    assert [d.value for d in entries(result)["autopilot-deployment-service"].destinations] == [
        "ztd.dds.microsoft.com",
        "foo.example.com",
    ]


def test_hosts_outside_the_service_sections_and_outside_the_tab_are_not_imported():
    text = HEAD.replace("- Allow access", "- Allow `any.example.com` and access") + DEPLOYMENT + TAIL
    result = run(text)
    values = {d.value for e in result.catalogue.entries for d in e.destinations}
    assert values == {"ztd.dds.microsoft.com"}  # not the tab's prose, not the Licensing tab
    assert (
        line_of(text, "any.example.com"),
        "any.example.com is named in the prose of #networking-requirements, outside the service sections; not imported",
    ) in reports(result)


def test_a_section_the_import_does_not_know_gets_its_anchor_as_id_and_a_report():
    text = page(DEPLOYMENT, "##### Windows Autopilot Telemetry Relay\n\n- `https://relay.example.com`\n")
    result = run(text)
    assert "autopilot-telemetry-relay" in entries(result)
    assert any("is new to the import: entry id autopilot-telemetry-relay" in m for _, m in reports(result))


def test_an_address_value_fails_at_its_line_the_import_takes_names():
    text = page(DEPLOYMENT, "##### Typo\n\n- `https://192.0.2.10/ekcertservice`\n")
    with pytest.raises(CatalogueError) as err:
        run(text)
    (problem,) = err.value.problems
    assert (problem.line, problem.message) == (
        line_of(text, "192.0.2.10"),
        "'https://192.0.2.10/ekcertservice' in #typo is a destination of kind network, which the page import does "
        "not take",
    )


def test_a_value_that_is_no_host_fails_at_its_line_until_a_fixup_corrects_it(tmp_path):
    text = page(DEPLOYMENT, "##### Typo\n\n- `https://ekop.intel..com/ekcertservice`\n")
    with pytest.raises(CatalogueError) as err:
        run(text)
    (problem,) = err.value.problems
    assert problem.line == line_of(text, "intel..com") and "is not a host name, wildcard or URL" in problem.message
    fixups = tmp_path / "fixups.yaml"
    fixups.write_text(
        "schema_version: 1\nfixups:\n"
        "  - {value: 'https://ekop.intel..com/ekcertservice', replace: 'https://ekop.intel.com/ekcertservice', reason: a doubled dot}\n"
        "  - {value: 'https://ztd.dds.microsoft.com', drop: true, reason: only to show a drop here}\n"
        "  - {value: gone.example.com, drop: true, reason: matches nothing on this page}\n"
    )
    result = run(text, page_fixups.load_fixups(fixups))
    assert {d.value for e in result.catalogue.entries for d in e.destinations} == {"ekop.intel.com"}
    got = reports(result)
    assert any(
        m.startswith(
            "https://ekop.intel..com/ekcertservice read as https://ekop.intel.com/ekcertservice by the fix-up at "
        )
        for _, m in got
    )
    assert any(
        m.startswith("https://ztd.dds.microsoft.com left out of #windows-autopilot-deployment-service") for _, m in got
    )
    assert any(line == 1 and "('gone.example.com') matches nothing on the page" in m for line, m in got)


def test_an_add_fixup_is_refused_and_a_backticked_word_is_reported(tmp_path):
    text = page(DEPLOYMENT, "##### Keys\n\nSet `&locale=en-us` and use `https://ztd.dds.microsoft.com` again.\n")
    assert (line_of(text, "&locale"), "`&locale=en-us` in #keys is no host or URL; not imported") in reports(run(text))
    fixups = tmp_path / "fixups.yaml"
    fixups.write_text(
        "schema_version: 1\nfixups:\n  - {value: 'https://ztd.dds.microsoft.com', add: autopilot, reason: not a page correction}\n"
    )
    with pytest.raises(CatalogueError, match="takes replace and drop"):
        run(text, page_fixups.load_fixups(fixups))


def test_the_page_s_shape_is_checked_naming_the_line():
    with pytest.raises(CatalogueError, match="no 'Networking requirements' section"):
        run(HEAD.replace("### Networking requirements", "### Network") + DEPLOYMENT + TAIL)
    with pytest.raises(CatalogueError, match="names no host in a service section"):
        run(page("##### Windows Activation\n\nSee [activation](https://support.example.com/a).\n"))
    table = page(DEPLOYMENT, "##### Hosts\n\n| Host | Port |\n| --- | --- |\n| `a.example.com` | 443 |\n")
    with pytest.raises(CatalogueError) as err:
        run(table)
    assert err.value.problems[0].line == line_of(table, "| Host | Port |")


# --- the command ---------------------------------------------------------------------------------------------


def test_the_cli_writes_a_loadable_deterministic_file_reports_on_stderr_and_a_summary(tmp_path, capsys):
    outs = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for out in outs:
        assert main(["import", "autopilot-page", str(COMMITTED_PAGE), "--out", str(out)]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes() == (CATALOGUE / "autopilot.yaml").read_bytes()
    captured = capsys.readouterr()
    summary = captured.out.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"wrote {re.escape(str(outs[1]))}: 16 entries \(5 endpoints, 0 peer-to-peer, 11 reference\) in 1 service "
        r"areas: 7 FQDNs, 2 wildcards, 0 addresses/CIDRs; (\d+) reports \(stderr\)",
        summary,
    ), summary
    stderr = captured.err.strip().splitlines()
    assert stderr and all(re.match(rf"{re.escape(str(COMMITTED_PAGE))}:\d+: ", line) for line in stderr)
    data = yaml.safe_load(outs[0].read_text(encoding="utf-8"))
    assert {e["provenance"]["source"] for e in data["entries"]} == {"autopilot-page"}


def test_the_cli_refuses_a_non_https_source_url(tmp_path, capsys):
    code = main(
        ["import", "autopilot-page", str(COMMITTED_PAGE), "--out", str(tmp_path / "x.yaml"), "--source-url", "http://x"]
    )
    assert code == 1 and "is not an https:// URL" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()
