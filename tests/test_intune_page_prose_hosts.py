"""Host names the Intune page writes in a sentence (no backticks, no quotes, not a link): reported with their line
unless the catalogue holds them; a reviewed fix-up imports one into a service area (``add``) or records why not
(``drop``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from endpoint_firewall.catalogue_tools.importers import intune_page, page_fixups
from endpoint_firewall.catalogue_tools.importers.learn_page import PageImport
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "sources" / "intune-endpoints.md"
FRONT = "---\ntitle: Network endpoints for Microsoft Intune\nms.date: 03/24/2026\n---\n\n"
BODY = """\
## Access for managed devices

- The endpoints in this article allow access to the ports identified in the following tables.
- For some tasks, Intune requires unauthenticated proxy server access to manage.example.com, \\*.azureedge.net,
  and graph.example.com. See [docs.example.com](https://docs.example.com/x) and run Test-Thing.ps1.

### Intune core service

| ID | Desc | Category | ER | Addresses | Ports |
| --- | --- | --- | --- | --- | --- |
| 163 | Core | Allow Required | False | `manage.example.com` | **TCP:** 80, 443 |

## Consolidated Endpoint List

FQDNs

```
manage.example.com
```

IP Subnets

```
192.0.2.0/24
```
"""


def run(fixups: page_fixups.Fixups = page_fixups.NO_FIXUPS, body: str = BODY) -> PageImport:
    return intune_page.import_page(FRONT + body, "page.md", fixups)


def fixups(tmp_path: Path, body: str) -> page_fixups.Fixups:
    path = tmp_path / "fixups.yaml"
    path.write_text("schema_version: 1\nfixups:\n" + textwrap.dedent(body), encoding="utf-8")
    return page_fixups.load_fixups(path)


def prose_reports(result: PageImport) -> list[tuple[int, str]]:
    return [(r.line, r.message) for r in result.reports if "in the prose of #access-for-managed-devices" in r.message]


def test_prose_hosts_the_catalogue_lacks_are_reported_at_their_line_and_not_imported():
    result = run()
    line = (FRONT + BODY).split("\n").index(
        "  and graph.example.com. See [docs.example.com](https://docs.example.com/x) and run Test-Thing.ps1."
    ) + 1
    got = prose_reports(result)
    assert [(n, m.split()[0]) for n, m in got] == [(line - 1, "*.azureedge.net"), (line, "graph.example.com")]
    assert "the catalogue cannot hold it: '*.azureedge.net': wildcard directly on the public suffix" in got[0][1]
    assert got[1][1].endswith("not imported: decide with a fix-up (add: AREA or drop: true) in <none>")
    values = {d.value for e in result.catalogue.entries for d in e.destinations}
    assert values == {
        "manage.example.com",
        "192.0.2.0/24",
    }  # manage.example.com (in ID 163) is not reported; links and files ignored


def test_a_fixup_adds_a_prose_host_to_an_area_on_its_ports_and_one_records_a_refusal(tmp_path):
    result = run(
        fixups(
            tmp_path,
            """\
          - value: graph.example.com
            section: access-for-managed-devices
            add: intune-core
            reason: needed for some tasks, no port stated
          - value: "*.azureedge.net"
            drop: true
            reason: a public suffix the loader refuses
        """,
        )
    )
    (entry,) = [e for e in result.catalogue.entries if e.id == "intune-core-prose"]
    assert entry.service_area == "intune-core" and entry.required
    assert [d.value for d in entry.destinations] == ["graph.example.com"]
    assert [str(s) for s in entry.services] == ["https:443"]
    assert entry.provenance.section == "access-for-managed-devices"
    got = [m for _, m in prose_reports(result)]
    assert (
        got[0].startswith("*.azureedge.net is named in the prose") and "(a public suffix the loader refuses)" in got[0]
    )
    assert "imported as intune-core-prose on https:443 by the fix-up at" in got[1]
    assert not [r for r in result.reports if "matches nothing on the page" in r.message]


def test_an_added_host_takes_the_ports_the_fixup_states(tmp_path):
    result = run(
        fixups(
            tmp_path,
            """\
          - value: graph.example.com
            add: intune-core
            ports: [80, 443]
            reason: the sentence says http and https
        """,
        )
    )
    (entry,) = [e for e in result.catalogue.entries if e.id == "intune-core-prose"]
    assert [str(s) for s in entry.services] == ["http:80", "https:443"]


def test_an_add_fixup_to_an_unknown_area_fails_and_ports_without_add_are_refused(tmp_path):
    with pytest.raises(CatalogueError, match=r"page.md:\d+: page: the fix-up at .* adds graph.example.com to 'nope'"):
        run(fixups(tmp_path, "  - value: graph.example.com\n    add: nope\n    reason: a wrong area here\n"))
    with pytest.raises(CatalogueError, match="ports are those of a host a fix-up adds"):
        fixups(tmp_path, "  - value: x.example.com\n    drop: true\n    ports: [80]\n    reason: ports on a drop\n")


def test_the_shipped_catalogue_adds_graph_to_intune_core_and_refuses_azureedge_with_its_reason():
    result = intune_page.import_file(PAGE, page_fixups.load_fixups(page_fixups.shipped_fixups_path()))
    text = PAGE.read_text(encoding="utf-8")
    line = next(i for i, t in enumerate(text.split("\n"), 1) if "unauthenticated proxy server access" in t)
    got = prose_reports(result)
    assert [n for n, _ in got] == [line, line]
    assert "public suffix" in got[0][1] and "not imported, by the fix-up at" in got[0][1]
    assert "imported as intune-core-prose on https:443" in got[1][1]
    shipped = load_catalogue([ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "intune.yaml"])
    holders = {e.id: e for e in shipped.entries if any(d.value == "graph.microsoft.com" for d in e.destinations)}
    assert list(holders) == ["intune-core-prose"] and holders["intune-core-prose"].service_area == "intune-core"
    assert not any("azureedge.net" in d.value for e in shipped.entries for d in e.destinations)
