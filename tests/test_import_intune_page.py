"""``epfw import intune-page``: Microsoft's Intune endpoints page (Markdown) -> a catalogue file.

Small pages written here pin each rule and each defect of the real page; the real page (../shared) is
imported as well and its known defects must be reported at their lines.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from shared_sources import INTUNE_PAGE, require_shared

from endpoint_firewall.catalogue_tools.importers import intune_page, page_fixups
from endpoint_firewall.catalogue_tools.importers.learn_page import PageImport
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.models import EntryKind
from endpoint_firewall.planning.selection import Selection

FRONT = '---\ntitle: Network endpoints for Microsoft Intune\nms.date: "2026-08-21T00:00:00Z"\n---\n\n'
SET_HEADER = "| ID | Desc | Category | ER | Addresses | Ports |\n| --- | --- | --- | --- | --- | --- |\n"
CONSOLIDATED = "## Consolidated Endpoint List\n\nFQDNs\n\n```\n{names}\n```\n\nIP Subnets\n\n```\n{ips}\n```\n"


def page(body: str, names: str = "a.manage.example.com", ips: str = "192.0.2.0/24") -> str:
    return FRONT + textwrap.dedent(body) + "\n" + CONSOLIDATED.format(names=names, ips=ips)


def core(rows: str) -> str:
    return "### Intune core service\n\n" + SET_HEADER + textwrap.dedent(rows)


def run(text: str, fixups: page_fixups.Fixups = page_fixups.NO_FIXUPS) -> PageImport:
    return intune_page.import_page(text, "page.md", fixups)


def reports(result: PageImport) -> list[tuple[int, str]]:
    return [(r.line, r.message) for r in result.reports]


def fixups(tmp_path: Path, body: str) -> page_fixups.Fixups:
    path = tmp_path / "fixups.yaml"
    path.write_text("schema_version: 1\nfixups:\n" + textwrap.dedent(body), encoding="utf-8")
    return page_fixups.load_fixups(path)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


# --- endpoint sets ---------------------------------------------------------------------------------------


def test_an_endpoint_set_row_is_one_entry_with_its_ports_and_every_value():
    text = page(
        core("""\
        | 163 | Intune client | Allow Required | False | `a.manage.example.com` `*.dm.example.com` `192.0.2.0/24, 198.51.100.0/25,203.0.113.0/26` `Front Door:` `2001:db8::/48` | **TCP:** 80, 443 |
        | 165 | NTP | Default | False | `time.example.com` | **UDP:** 123 |
        | 166 | Other | Default Required | True | `x.example.com` | **TCP:** 443, 8443 |
        """),
        names="a.manage.example.com\n*.dm.example.com\ntime.example.com\nx.example.com",
        ips="192.0.2.0/24\n198.51.100.0/25\n203.0.113.0/26\n2001:db8::/48",
    )
    doc = run(text).catalogue
    e163, e165, e166 = (next(e for e in doc.entries if e.id == f"intune-{n}") for n in (163, 165, 166))
    assert [d.value for d in e163.destinations] == [
        "a.manage.example.com",
        "*.dm.example.com",
        "192.0.2.0/24",
        "198.51.100.0/25",
        "203.0.113.0/26",
        "2001:db8::/48",
    ]
    assert [str(s) for s in e163.services] == ["http:80", "https:443"]
    assert [str(s) for s in e165.services] == ["udp:123"]
    assert [str(s) for s in e166.services] == ["https:443", "tcp:8443"]
    assert (e163.required, e165.required, e166.required) == (True, False, True)
    assert e163.service_area == "intune-core" and e163.provenance.endpoint_set == 163
    assert e163.provenance.section == "intune-core-service" and e163.provenance.source == "intune-page"
    assert "Listed under 'Front Door': 2001:db8::/48" in e163.notes
    source = doc.sources[0]
    assert (source.title, str(source.date), source.url) == (
        "Network endpoints for Microsoft Intune",
        "2026-08-21",
        intune_page.SOURCE_URL,
    )


def test_mixed_case_duplicates_and_a_stray_backtick_are_reported_at_their_lines():
    text = page(
        core("""\
        | 163 | Core | Allow Required | False | `Enroll.Manage.Example.com` `192.0.2.0/24, 192.0.2.0/24` | **TCP:** 443 |
        | 192 | Messages | Default Required | False | `a.manage.example.com` ` | **TCP:** 443 |
        """),
        names="enroll.manage.example.com\na.manage.example.com",
    )
    result = run(text)
    row163, row192 = line_of(text, "| 163 |"), line_of(text, "| 192 |")
    got = reports(result)
    assert (
        row163,
        "Enroll.Manage.Example.com is written in mixed case; host names are case-insensitive, imported "
        "as enroll.manage.example.com",
    ) in got
    assert (row163, f"192.0.2.0/24 is listed twice in ID 163 (also line {row163}); kept once") in got
    assert (row192, "a stray backtick at the end of the addresses of ID 192; nothing follows it, ignored") in got
    assert [d.value for d in result.catalogue.entries[0].destinations] == ["enroll.manage.example.com", "192.0.2.0/24"]


def test_a_value_listed_again_on_a_later_line_is_reported_there_naming_the_first():
    text = page(
        """\
        ## Microsoft Store

        **Microsoft Store API:**

        - `store.example.com`
        - `other.example.com`
        - `store.example.com`
        """,
        names="store.example.com\nother.example.com",
    )
    first = line_of(text, "- `store.example.com`")
    second = line_of(text, "- `other.example.com`") + 1
    assert text.split("\n")[second - 1].strip() == "- `store.example.com`" and second > first
    result = run(text)
    duplicates = [(line, m) for line, m in reports(result) if "listed twice" in m]
    assert duplicates == [
        (second, f"store.example.com is listed twice in intune-microsoft-store-list-1 (also line {first}); kept once")
    ]
    store = next(e for e in result.catalogue.entries if e.id == "intune-microsoft-store-list-1")
    assert [d.value for d in store.destinations] == ["store.example.com", "other.example.com"]


def test_a_value_that_is_no_host_fails_at_its_line_until_a_fixup_corrects_it(tmp_path):
    text = page(
        core("""\
        | 170 | Win32 | Default Required | False | `swda01.manage.example.com` `swdc02.manage.example<.com` | **TCP:** 443 |
        """),
        names="swda01.manage.example.com\nswdc02.manage.example.com",
    )
    row = line_of(text, "| 170 |")
    with pytest.raises(CatalogueError) as err:
        run(text)
    assert str(err.value).startswith(f"page.md:{row}: page: 'swdc02.manage.example<.com' is not a host name")
    fixed = run(
        text,
        fixups(
            tmp_path,
            """\
          - value: "swdc02.manage.example<.com"
            replace: swdc02.manage.example.com
            reason: stray '<' in the host name
          - value: gone.example.com
            drop: true
            reason: a fix-up the page no longer needs
        """,
        ),
    )
    assert [d.value for d in fixed.catalogue.entries[0].destinations][-1] == "swdc02.manage.example.com"
    got = reports(fixed)
    assert any(line == row and "read as swdc02.manage.example.com by the fix-up at" in m for line, m in got)
    assert any("('gone.example.com') matches nothing on the page; remove it" in m for _, m in got)


def test_a_fixup_file_with_neither_action_is_refused_with_its_line(tmp_path):
    with pytest.raises(CatalogueError) as err:
        fixups(tmp_path, "  - value: x.example.com\n    reason: no action given here\n")
    assert ":3: fixups[0]:" in str(err.value) and "either replaces" in str(err.value)


def test_an_id_in_two_tables_is_one_entry_in_the_deeper_section():
    text = page(
        core("""\
        | 172 | DO | Default Required | False | `*.do.example.com` | **TCP:** 80, 443 |
        """)
        + "\n#### Delivery optimization dependencies\n\n"
        + SET_HEADER
        + "| 172 | DO | Default Required | False | `*.do.example.com` `*.dl.example.com` | **TCP:** 80, 443 |\n",
        names="*.do.example.com\n*.dl.example.com",
    )
    result = run(text)
    (entry,) = [e for e in result.catalogue.entries if e.id == "intune-172"]
    assert entry.service_area == "delivery-optimization"
    assert [d.value for d in entry.destinations] == ["*.do.example.com", "*.dl.example.com"]
    assert any("ID 172 is listed again" in m and "only at line" in m for _, m in reports(result))


def test_gcc_rows_are_tagged_us_gov_and_left_out_unless_a_stack_names_it():
    text = page(
        "### Remote Help\n\n"
        + SET_HEADER.replace("Ports |\n", "Ports | Notes |\n").replace("--- |\n", "--- | --- |\n", 1)
        + textwrap.dedent("""\
        | 181 | Remote Help | Default Required | False | `rh.example.com` | **TCP:** 443 |  |
        | 188 | Remote Help for GCC customers | Default Required | False | `rh.gov.example.us` | **TCP:** 443 |  |
        | N/A | Unattended access | Default Required | N/A | See Notes | See Notes | Needs the [AVD hosts](https://learn.microsoft.com/avd). |
        """),
        names="rh.example.com\nrh.gov.example.us",
    )
    doc = run(text).catalogue
    gcc = next(e for e in doc.entries if e.id == "intune-188")
    ref = next(e for e in doc.entries if e.kind is EntryKind.REFERENCE)
    assert gcc.regions == ("us-gov",)
    assert [r.url for r in ref.references] == ["https://learn.microsoft.com/avd"]
    assert not Selection().keeps(gcc) and not Selection(regions=frozenset({"europe"})).keeps(gcc)
    assert Selection(regions=frozenset({"europe", "us-gov"})).keeps(gcc)


# --- regions, scale units, lists -------------------------------------------------------------------------

REGION_PAGE = """\
    ## Windows Autopilot dependencies

    | ID | Desc | Category | ER | Addresses | Ports |
    | --- | --- | --- | --- | --- | --- |
    | 182 | Diagnostics upload | Default Required | False | `amsua0101lmsas.blob.example.net` `amsub0101lmsas.blob.example.net` `amsud0101lmsas.blob.example.net` | **TCP:** 443 |

    ## Network requirements for PowerShell scripts and Win32 apps

    | Region | CDN | Port |
    | --- | --- | --- |
    | North America | `imeswda-afd-primary.manage.example.com` `rh.example.com` | **TCP:** 443 |
    | Europe | `imeswdb-afd-primary.manage.example.com` | **TCP:** 443 |

    ## Migrating device health attestation compliance policies to Microsoft Azure attestation

    Ensure that there are no firewall rules blocking outbound HTTPS/443 traffic.

    <a id="tabpanel_1_asia-pacific"></a>

    - 'https://maa1.jpe.attest.example.net'
    - 'https://maa2.jpe.attest.example.net'

    ## Remote Help

    | ID | Desc | Category | ER | Addresses | Ports |
    | --- | --- | --- | --- | --- | --- |
    | 181 | Remote Help | Default Required | False | `rh.example.com` | **TCP:** 443 |

    ## Microsoft Store

    Devices need these endpoints on tcp ports 80 and 443 through your firewall.

    **Microsoft Store API:**

    - `store.example.com`
    - `winget show [PackageId]`

    ## Delivery optimization dependencies

    **Port requirements** - Optionally, Delivery Optimization uses 7680 for TCP/IP and Teredo on port 3544 for NAT traversal.
    """


def test_region_rows_tab_panels_scale_units_and_lists():
    text = page(REGION_PAGE, names="rh.example.com", ips="192.0.2.0/24")
    result = run(text)
    by_id = {e.id: e for e in result.catalogue.entries}
    assert by_id["intune-win32-cdn-north-america"].regions == ("north-america",)
    assert by_id["intune-182-north-america"].scale_units == ("AMSUA0101",)
    assert by_id["intune-182-europe"].regions == ("europe",)
    assert by_id["intune-182-amsud"].regions == ("amsud",)  # family d is placed in no region
    assert "intune-182" not in by_id
    panel = by_id["intune-attestation-asia-pacific"]
    assert [d.value for d in panel.destinations] == ["maa1.jpe.attest.example.net", "maa2.jpe.attest.example.net"]
    assert [str(s) for s in panel.services] == ["https:443"]
    store = by_id["intune-microsoft-store-list-1"]
    assert store.description == "Microsoft Store API" and [str(s) for s in store.services] == ["http:80", "https:443"]
    peers, teredo = by_id["intune-delivery-optimization-peers"], by_id["intune-delivery-optimization-teredo"]
    assert (peers.kind, [str(s) for s in peers.services]) == (EntryKind.PEER_TO_PEER, ["tcp:7680"])
    assert [str(s) for s in teredo.services] == ["udp:3544"]
    got = reports(result)
    row182, panel_line = line_of(text, "| 182 |"), line_of(text, "'https://maa1")
    assert any(line == row182 and "family 'd' (AMSUD0101) is placed in no region" in m for line, m in got)
    assert (
        panel_line,
        f"2 items of the list at lines {panel_line}-{panel_line + 1} are quoted URLs "
        "('https://…'); their host names are imported",
    ) in got
    na_row = line_of(text, "| North America |")
    assert any(
        line == na_row and "rh.example.com in the region row of intune-win32-cdn-north-america is also in ID 181" in m
        for line, m in got
    )
    assert any("'`winget show [PackageId]`'" in m and "names no host" in m for _, m in got)


def test_consolidated_list_disagreements_are_reported_both_ways_and_its_own_values_imported():
    text = page(
        core("""\
        | 163 | Core | Allow Required | False | `a.manage.example.com` `b.manage.example.com` | **TCP:** 443 |
        """),
        names="a.manage.example.com\naka.example.com\nweb.gov.example.us",
        ips="203.0.113.0/27",
    )
    result = run(text)
    by_id = {e.id: e for e in result.catalogue.entries}
    assert [d.value for d in by_id["intune-consolidated-names"].destinations] == ["aka.example.com"]
    assert [d.value for d in by_id["intune-consolidated-addresses"].destinations] == ["203.0.113.0/27"]
    assert by_id["intune-consolidated-us-gov"].regions == ("us-gov",)
    got = reports(result)
    assert (line_of(text, "| 163 |"), "b.manage.example.com (ID 163) is not in the consolidated list") in got
    assert any(
        line == line_of(text, "aka.example.com") and m.startswith("aka.example.com is in the consolidated list only")
        for line, m in got
    )


def test_a_value_twice_in_the_consolidated_list_is_reported_at_the_second_line_naming_the_first():
    text = page(
        core("""\
        | 163 | Core | Allow Required | False | `a.manage.example.com` | **TCP:** 443 |
        """),
        names="a.manage.example.com\naka.example.com\nAka.example.com",
    )
    first = line_of(text, "aka.example.com")
    again = line_of(text, "Aka.example.com")
    assert again > first
    assert (again, f"aka.example.com is in the consolidated list twice (also line {first}); kept once") in reports(
        run(text)
    )


# --- a page whose structure changed -----------------------------------------------------------------------


def test_a_renamed_column_fails_naming_the_table_and_its_line():
    text = page(
        core("| 163 | Core | Allow Required | False | `a.manage.example.com` | **TCP:** 443 |\n").replace(
            "| Addresses |", "| Address |"
        )
    )
    with pytest.raises(CatalogueError) as err:
        run(text)
    table = line_of(text, "| ID |")
    assert str(err.value).startswith(
        f"page.md:{table}: page: the table at line {table} in section "
        "'Intune core service' has the columns ID | Desc | Category | ER | Address"
    )


def test_a_row_with_a_missing_cell_fails_at_the_row():
    text = page(core("| 163 | Core | Allow Required | `a.manage.example.com` | **TCP:** 443 |\n"))
    with pytest.raises(CatalogueError) as err:
        run(text)
    assert str(err.value).startswith(f"page.md:{line_of(text, '| 163 |')}: page: row of the table at line")


def test_an_unknown_port_notation_or_region_fails_at_its_row():
    bad_port = page(core("| 163 | Core | Allow Required | False | `a.manage.example.com` | TCP 443 |\n"))
    with pytest.raises(CatalogueError, match=r"page.md:\d+: page: ports 'TCP 443' are not written"):
        run(bad_port)
    bad_region = page(REGION_PAGE.replace("| Europe |", "| South America |"))
    with pytest.raises(CatalogueError, match="region 'South America' is not one the stacks know"):
        run(bad_region)


def test_a_new_section_with_endpoints_fails_and_one_without_is_reported():
    new = page(
        "## Microsoft Teams rooms\n\n"
        + SET_HEADER
        + "| 200 | Rooms | Default Required | False | `rooms.example.com` | **TCP:** 443 |\n"
    )
    with pytest.raises(CatalogueError, match="its section 'Microsoft Teams rooms' .* has no service area"):
        run(new)
    prose = page("## Something new\n\nA paragraph.\n")
    assert any(
        m == "unrecognised section 'Something new' (#something-new): nothing imported from it; review it"
        for _, m in reports(run(prose))
    )


def test_a_page_without_its_consolidated_list_fails():
    with pytest.raises(CatalogueError, match="no 'Consolidated Endpoint List' section"):
        run(FRONT + core("| 163 | Core | Allow Required | False | `a.manage.example.com` | **TCP:** 443 |\n"))


# --- the real page ----------------------------------------------------------------------------------------


def real(fix: page_fixups.Fixups | None = None) -> PageImport:
    path = require_shared(INTUNE_PAGE)
    return intune_page.import_file(path, fix or page_fixups.load_fixups(page_fixups.shipped_fixups_path()))


def test_the_real_page_reports_each_known_defect_at_its_line():
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    got = reports(real())
    row163, row170, row187 = (line_of(text, f"| {n} |") for n in (163, 170, 187))
    assert (
        row163,
        "EnterpriseEnrollment.manage.microsoft.com is written in mixed case; host names are "
        "case-insensitive, imported as enterpriseenrollment.manage.microsoft.com",
    ) in got
    assert any(
        line == row187
        and m.startswith("AMSUA0101-RemoteAssistService-pubsub.webpubsub.azure.com is written in mixed case")
        for line, m in got
    )
    assert (row163, f"20.43.129.0/24 is listed twice in ID 163 (also line {row163}); kept once") in got
    assert any(
        line == row170
        and m.startswith("swdc02-mscdn.manage.microsoft<.com read as swdc02-mscdn.manage.microsoft.com by the fix-up")
        for line, m in got
    )
    assert (
        line_of(text, "| 192 |"),
        "a stray backtick at the end of the addresses of ID 192; nothing follows it, ignored",
    ) in got
    quoted = [line for line, m in got if "are quoted URLs ('https://…')" in m]
    assert quoted == [line_of(text, "intunemaape1."), line_of(text, "intunemaape7."), line_of(text, "intunemaape13.")]
    repeated = [
        (line, m.split()[0])
        for line, m in got
        if f"is also in ID 181 (line {line_of(text, '| 181 |')}), area remote-help; kept in both" in m
    ]
    assert repeated == [
        (line_of(text, "| North America | `imeswda"), "go-amer.trouter.communications.svc.cloud.microsoft"),
        (line_of(text, "| Europe | `imeswdb"), "go-eu.trouter.communications.svc.cloud.microsoft"),
        (line_of(text, "| Asia Pacific | `imeswdc"), "go-apac.trouter.communications.svc.cloud.microsoft"),
    ]
    assert not [m for _, m in got if "left out of section" in m]
    only = {m.split()[0] for _, m in got if "is in the consolidated list only" in m}
    assert {
        "aka.ms",
        "cdn.oneget.org",
        "*.powershellgallery.com",
        "20.189.172.160/27",
        "remoteassistanceweb.usgov.communication.azure.us",
    } <= only
    missing = {m.split()[0] for _, m in got if m.endswith("is not in the consolidated list")}
    assert {"intunemaape6.ncus.attest.azure.net", "macsidecar.manage.microsoft.com", "172.208.170.0/25"} <= missing


def test_the_remote_help_hosts_repeated_in_the_win32_rows_stay_in_both_areas():
    by_id = {e.id: e for e in real().catalogue.entries}
    for region, host in (("north-america", "go-amer"), ("europe", "go-eu"), ("asia-pacific", "go-apac")):
        value = f"{host}.trouter.communications.svc.cloud.microsoft"
        assert value in [d.value for d in by_id[f"intune-win32-cdn-{region}"].destinations]
        assert value in [d.value for d in by_id["intune-181"].destinations]


def test_the_real_page_without_fixups_fails_at_the_typo():
    path = require_shared(INTUNE_PAGE)
    with pytest.raises(CatalogueError) as err:
        intune_page.import_file(path)
    line = line_of(path.read_text(encoding="utf-8"), "microsoft<.com")
    assert str(err.value).startswith(f"{path}:{line}: page: 'swdc02-mscdn.manage.microsoft<.com' is not a host name")


def test_the_real_page_gives_every_endpoint_set_and_region_entry():
    doc = real().catalogue
    ids = {e.id for e in doc.entries}
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    table_ids = set(re.findall(r"^\| (\d+) \|", text, re.M)) - {"182"}
    assert {f"intune-{n}" for n in table_ids} <= ids
    assert {f"intune-182-{r}" for r in ("north-america", "europe", "asia-pacific", "amsud", "amsuin")} <= ids
    for area in ("win32-cdn", "macos-cdn", "attestation"):
        assert {f"intune-{area}-{r}" for r in ("north-america", "europe", "asia-pacific")} <= ids
    assert all(e.provenance.source == "intune-page" and e.provenance.section for e in doc.entries)
    assert {e.service_area for e in doc.entries}.isdisjoint({"apple", "android"})


def test_the_cli_writes_a_loadable_deterministic_file_and_a_summary(tmp_path, capsys):
    path = require_shared(INTUNE_PAGE)
    outs = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for out in outs:
        assert main(["import", "intune-page", str(path), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert outs[0].read_bytes() == outs[1].read_bytes()
    catalogue = load_catalogue([outs[0]])
    summary = captured.out.strip().splitlines()[0]
    n = re.fullmatch(
        r"wrote \S+: (\d+) entries \((\d+) endpoints, (\d+) peer-to-peer, (\d+) reference\) in (\d+) "
        r"service areas: (\d+) FQDNs, (\d+) wildcards, (\d+) addresses/CIDRs; (\d+) reports \(stderr\)",
        summary,
    )
    assert n, summary
    assert int(n.group(1)) == len(catalogue.entries)
    stderr = captured.err.strip().splitlines()
    assert int(n.group(9)) * 2 == len(stderr)
    assert all(re.match(rf"{re.escape(str(path))}:\d+: ", line) for line in stderr)


COMMITTED_PAGE = (
    Path(__file__).resolve().parents[1]
    / "endpoint_firewall"
    / "endpoints"
    / "catalogue"
    / "sources"
    / "intune-endpoints.md"
)


def test_the_shipped_catalogue_is_the_import_of_the_committed_page_byte_for_byte():
    """The shipped intune.yaml can only change through the importer (or its fix-ups) and a reviewed diff. It is
    regenerated from the page copy the repository keeps (no ../shared needed), which a refresh replaces with it."""
    from endpoint_firewall.catalogue_tools.dump import dump_catalogue
    from endpoint_firewall.endpoints.loader import shipped_catalogue_files

    result = intune_page.import_file(COMMITTED_PAGE, page_fixups.load_fixups(page_fixups.shipped_fixups_path()))
    (shipped,) = [p for p in shipped_catalogue_files() if p.name == "intune.yaml"]
    assert dump_catalogue(result.catalogue, result.header()) == shipped.read_text(encoding="utf-8"), (
        "regenerate: epfw import intune-page endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md "
        "--out endpoint_firewall/endpoints/catalogue/intune.yaml"
    )


def test_the_committed_page_is_the_shared_2026_08_page_or_a_newer_one(tmp_path):
    shared = require_shared(INTUNE_PAGE)
    committed = intune_page.import_file(COMMITTED_PAGE, page_fixups.load_fixups(page_fixups.shipped_fixups_path()))
    newer = committed.catalogue.sources[0].date > real().catalogue.sources[0].date
    assert newer or COMMITTED_PAGE.read_bytes() == shared.read_bytes()
    if not newer:  # so the shared page's import is the shipped catalogue too (the documented command)
        out = tmp_path / "intune.yaml"
        assert main(["import", "intune-page", str(shared), "--out", str(out)]) == 0
        assert out.read_bytes() == (COMMITTED_PAGE.parents[1] / "intune.yaml").read_bytes()
