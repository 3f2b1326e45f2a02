"""The two dialects of Microsoft's Intune page: Learn's rendered Markdown (the shared copy) and the DocFX source
of MicrosoftDocs/memdocs that the refresh workflow fetches (US ``ms.date``, ``<BR>`` between values, rows with
no leading pipe, ``# [Region](#tab/region)`` tab groups closed by ``---``). The same content gives the same
catalogue entries; a table that lost its rows fails naming its line.
"""

from __future__ import annotations

import datetime as dt

import pytest
from page_dialects import to_memdocs
from shared_sources import INTUNE_PAGE, require_shared

from endpoint_firewall.catalogue_tools.importers import intune_page, page_fixups
from endpoint_firewall.catalogue_tools.importers.learn_page import PageImport
from endpoint_firewall.endpoints.errors import CatalogueError

CONSOLIDATED = (
    "## Consolidated Endpoint List\n\nFQDNs\n\n```\na.manage.example.com\n```\n\nIP Subnets\n\n```\n192.0.2.0/24\n```\n"
)


def run(text: str, fixups: page_fixups.Fixups = page_fixups.NO_FIXUPS) -> PageImport:
    return intune_page.import_page(text, "page.md", fixups)


def front(date: str) -> str:
    return f"---\ntitle: Network endpoints for Microsoft Intune\nms.date: {date}\n---\n\n"


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


@pytest.fixture(scope="module")
def shared_fixups() -> page_fixups.Fixups:
    return page_fixups.load_fixups(page_fixups.shipped_fixups_path())


def test_the_memdocs_dialect_of_the_shared_page_gives_the_same_entries(shared_fixups):
    learn = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    memdocs = to_memdocs(learn)
    assert "# [Europe](#tab/europe)" in memdocs and "\n181 | MEM - Remote Help" in memdocs
    assert "Default<BR>Required" in memdocs and "tabpanel" not in memdocs
    a, b = run(learn, shared_fixups), run(memdocs, shared_fixups)
    assert b.catalogue.entries == a.catalogue.entries
    assert b.catalogue.service_areas == a.catalogue.service_areas
    assert b.catalogue.sources[0].date == a.catalogue.sources[0].date == dt.date(2026, 8, 21)
    regions = {e.id: e.regions for e in b.catalogue.entries if e.service_area == "attestation"}
    assert regions["intune-attestation-europe"] == ("europe",)
    assert {"intune-attestation-north-america", "intune-attestation-asia-pacific"} <= set(regions)
    assert not [r for r in b.reports if "unrecognised section" in r.message]
    assert len(b.reports) == len(a.reports)


@pytest.mark.parametrize(
    ("written", "date"),
    [
        ("03/24/2026", dt.date(2026, 3, 24)),
        ("3/4/2026", dt.date(2026, 3, 4)),
        ('"2026-08-21T00:00:00Z"', dt.date(2026, 8, 21)),
        ("2026-03-24", dt.date(2026, 3, 24)),
    ],
)
def test_ms_date_is_read_in_microsofts_month_first_form_and_in_iso(written, date):
    text = front(written) + "## Something\n\nText.\n\n" + CONSOLIDATED
    assert run(text).catalogue.sources[0].date == date


def test_a_day_first_date_is_refused_at_its_line_never_read_as_month():
    text = front("24/03/2026") + CONSOLIDATED
    with pytest.raises(CatalogueError) as err:
        run(text)
    assert str(err.value).startswith(
        "page.md:3: front matter: ms.date '24/03/2026' is not a date: Microsoft writes MM/DD/YYYY"
    )


HAND_MEMDOCS = """\
### Intune core service

| ID | Desc | Category | ER | Addresses | Ports |
|----|------|----------|----|-----------|-------|
163 | Core | Allow<BR>Required | False | `a.manage.example.com`<BR>`b.manage.example.com`(only for EU customers)<BR>`192.0.2.0/24` | **TCP:** 80, 443
| 164 | Optional | Default | False |`c.manage.example.com`<br/> | **TCP:** 443|

### Remote Help

| ID |Desc |Category |ER |Addresses |Ports|Notes|
|----|-----|---------|---|----------|-----|-----|
181 | Help | Default<BR>Required | False |`rh.example.com`<BR> | **TCP:** 443 |

## Migrating device health attestation compliance policies to Microsoft Azure attestation

Ensure no firewall rule blocks outbound HTTPS/443 traffic.

# [North America](#tab/north-america)

- 'https://maa1.eus.attest.example.net'

- 'https://maa2.eus.attest.example.net'

# [Europe](#tab/europe)

- 'https://maa3.neu.attest.example.net'

---

## Network requirements for macOS app and script deployments

|Region | CDN | Port |
|-------|-----|------|
|North America | `macsidecar.manage.example.com`<br>`macsidecarprod.example.net` | **TCP:** 443 |

"""


def test_a_hand_written_memdocs_page_gives_rows_tabs_and_values():
    result = run(front("03/24/2026") + HAND_MEMDOCS + CONSOLIDATED)
    by_id = {e.id: e for e in result.catalogue.entries}
    core = by_id["intune-163"]
    assert [d.value for d in core.destinations] == ["a.manage.example.com", "b.manage.example.com", "192.0.2.0/24"]
    assert core.required and core.provenance.note == "Allow Required; ExpressRoute False"
    assert core.notes == "b.manage.example.com: only for EU customers."
    assert [str(s) for s in core.services] == ["http:80", "https:443"]
    assert [d.value for d in by_id["intune-164"].destinations] == ["c.manage.example.com"]
    assert not by_id["intune-164"].required
    assert [d.value for d in by_id["intune-181"].destinations] == ["rh.example.com"]
    na, eu = by_id["intune-attestation-north-america"], by_id["intune-attestation-europe"]
    assert [d.value for d in na.destinations] == ["maa1.eus.attest.example.net", "maa2.eus.attest.example.net"]
    assert na.regions == ("north-america",) and na.provenance.note == "tab tabpanel_1_north-america"
    assert [d.value for d in eu.destinations] == ["maa3.neu.attest.example.net"] and eu.regions == ("europe",)
    assert [d.value for d in by_id["intune-macos-cdn-north-america"].destinations] == [
        "macsidecar.manage.example.com",
        "macsidecarprod.example.net",
    ]
    assert result.catalogue.sources[0].date == dt.date(2026, 3, 24)


def test_html_comments_are_not_part_of_the_page():
    commented = (
        "<!-- Older table, for reference only\n\n| ID | Desc | Category | ER | Addresses | Ports |\n"
        "|----|------|----------|----|-----------|-------|\n"
        "| 900 | Old | Default<BR>Required | False | `old.example.com` | **TCP:** 443 |\n-->\n\n"
    )
    body = HAND_MEMDOCS.replace("### Remote Help", commented + "<!-- one line -->\n\n### Remote Help")
    result = run(front("03/24/2026") + body + CONSOLIDATED)
    assert "intune-900" not in {e.id for e in result.catalogue.entries}
    assert not [r for r in result.reports if "old.example.com" in r.message]
    assert {e.id for e in result.catalogue.entries} == {
        e.id for e in run(front("03/24/2026") + HAND_MEMDOCS + CONSOLIDATED).catalogue.entries
    }
    with pytest.raises(CatalogueError, match=r"page.md:\d+: page: HTML comment opened with '<!--' is never closed"):
        run(
            front("03/24/2026") + HAND_MEMDOCS.replace("### Remote Help", "<!-- open\n\n### Remote Help") + CONSOLIDATED
        )


def test_tab_groups_are_numbered_in_page_order_like_learn():
    second = HAND_MEMDOCS.replace(
        "## Network requirements for macOS",
        "More text.\n\n# [Asia Pacific](#tab/asia-pacific)"
        "\n\n- 'https://maa4.jpe.attest.example.net'\n\n---\n\n## Network requirements for macOS",
    )
    by_id = {e.id: e for e in run(front("03/24/2026") + second + CONSOLIDATED).catalogue.entries}
    assert by_id["intune-attestation-asia-pacific"].provenance.note == "tab tabpanel_2_asia-pacific"


# --- never a silently smaller catalogue ---------------------------------------------------------------------


def test_a_table_whose_rows_are_gone_fails_naming_the_tables_line():
    text = (
        front("03/24/2026") + "### Intune core service\n\n| ID | Desc | Category | ER | Addresses | Ports |\n"
        "|----|------|----------|----|-----------|-------|\n\nA paragraph.\n\n" + CONSOLIDATED
    )
    with pytest.raises(CatalogueError) as err:
        run(text)
    table = line_of(text, "| ID |")
    assert str(err.value) == f"page.md:{table}: page: table at line {table} has a header and a separator but no rows"


def test_a_row_that_lost_its_separators_fails_at_that_row():
    body = HAND_MEMDOCS.replace(
        "| 164 | Optional | Default | False |`c.manage.example.com`<br/> | **TCP:** 443|",
        "164 Optional Default False c.manage.example.com TCP 443",
    )
    text = front("03/24/2026") + body + CONSOLIDATED
    with pytest.raises(CatalogueError) as err:
        run(text)
    row = line_of(text, "164 Optional")
    assert str(err.value).startswith(
        f"page.md:{row}: page: line {row} under the rows of the table at line "
        f"{line_of(text, '| ID | Desc |')} has no '|'"
    )


@pytest.mark.parametrize(
    ("written", "cells"),
    [("| False |`c.manage.example.com`<br/> | **TCP:** 443 | extra | cell |", 8), ("| False |", 4)],
)
def test_a_row_with_too_many_or_too_few_cells_fails_at_that_row(written, cells):
    body = HAND_MEMDOCS.replace("| False |`c.manage.example.com`<br/> | **TCP:** 443|", written)
    text = front("03/24/2026") + body + CONSOLIDATED
    with pytest.raises(CatalogueError) as err:
        run(text)
    assert str(err.value).startswith(
        f"page.md:{line_of(text, '| 164 |')}: page: row of the table at line "
        f"{line_of(text, '| ID | Desc |')} has {cells} cells, its header 6"
    )
