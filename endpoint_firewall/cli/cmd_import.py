"""``epfw import m365 FILE.json --out FILE.yaml [--source-date YYYY-MM-DD] [--service-area AREA...] [--tls-ports PORTS]
[--source-url URL]``, ``epfw import intune-page FILE.md --out FILE.yaml [--fixups FILE | --no-fixups] [--source-url URL]``
and ``epfw import autopilot-page FILE.md --out FILE.yaml [--fixups FILE | --no-fixups] [--source-url URL]``.

Converts a vendor's endpoint list into a catalogue file. Input errors print as ``FILE:LINE: field: message``
(exit 1, nothing written); what the catalogue cannot express is named on stderr as ``warning: ...`` lines
and left out (exit 0). The output is written only once it loads as a catalogue file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable
from pathlib import Path

from ..catalogue_tools.dump import write_catalogue
from ..catalogue_tools.importers import autopilot_page, intune_page, m365, page_fixups
from ..catalogue_tools.importers.learn_page import PageImport
from ..catalogue_tools.importers.m365.ports import TLS_PORTS, parse_ports
from ..endpoints.stats import counted
from .errors import UserError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-06-28") from None


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="convert a vendor endpoint list into a catalogue file",
        description="Convert a vendor endpoint list into a catalogue file.",
    )
    kinds = parser.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    p = kinds.add_parser(
        "m365",
        help="the Microsoft 365 IP address and URL web service JSON",
        description="Convert the JSON of the Microsoft 365 IP address and URL web service "
        f"({m365.WEB_SERVICE_URL}?clientrequestid=<GUID>) into a catalogue file: one entry "
        "m365-<id> per record; TCP 80 -> http, TCP 443 -> https, TCP ports that carry TLS from "
        "the first byte (--tls-ports) -> tls, other TCP -> tcp, UDP -> udp. URLs the catalogue "
        "cannot express exactly (such as autodiscover.*.onmicrosoft.com) and keys the importer "
        "does not know are named on stderr; the URLs are left out, the keys ignored. For Intune, "
        "prefer `epfw import intune-page`: Microsoft no longer keeps the web service's MEM data "
        "accurate.",
    )
    p.add_argument("file", type=Path, metavar="FILE.json", help="the web service's JSON answer, saved to a file")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.yaml", help="catalogue file to write")
    p.add_argument(
        "--source-date",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="date of the data, recorded as the source's date (default: today, UTC; the JSON "
        "carries no date; give it to make a re-import of the same data byte-identical)",
    )
    p.add_argument(
        "--service-area",
        dest="service_areas",
        action="extend",
        nargs="+",
        metavar="AREA",
        help="import only these service areas (case-insensitive, e.g. MEM Exchange; repeatable, "
        "comma-separated also works)",
    )
    p.add_argument(
        "--source-url",
        default=m365.WEB_SERVICE_URL,
        metavar="URL",
        help=f"URL recorded for the source (default: {m365.WEB_SERVICE_URL})",
    )
    default_tls = ",".join(ports for ports, _ in TLS_PORTS)
    p.add_argument(
        "--tls-ports",
        default=None,
        metavar="PORTS",
        help="TCP ports and ranges whose names import as tls (TLS from the first byte, matched by "
        f"SNI), replacing the default list: {default_tls} (80 and 443 stay http and https; "
        "'' for none)",
    )
    p.set_defaults(handler=run_m365)
    _page_parser(
        kinds,
        "intune-page",
        help='the Markdown of Microsoft\'s "Network endpoints for Microsoft Intune" page',
        description='Convert the Markdown of Microsoft Learn\'s "Network endpoints for Microsoft Intune" '
        f"({intune_page.SOURCE_URL}; source: MicrosoftDocs/memdocs intune/fundamentals/endpoints.md) "
        "into a catalogue file: one entry intune-<ID> per endpoint set, one per region of the region "
        "tables, one per host list, and entries for what only the consolidated list names. Every "
        "defect of the page and every applied fix-up is reported on stderr as PAGE:LINE: message.",
        source_url=intune_page.SOURCE_URL,
    ).set_defaults(handler=lambda args: _run_page(args, intune_page.import_file))
    _page_parser(
        kinds,
        "autopilot-page",
        help='the Markdown of Microsoft\'s "Windows Autopilot requirements" page (its Networking tab)',
        description='Convert the Networking tab of Microsoft Learn\'s "Windows Autopilot requirements" '
        f"({autopilot_page.SOURCE_URL}; source: MicrosoftDocs/memdocs autopilot/requirements.md) into a "
        "catalogue file: one entry autopilot-<name> in the service area autopilot per service section with "
        "hosts (URLs give their hosts; protocols and ports as the page states them, else https 443), one "
        "reference entry per section that only links elsewhere. Every URL reduced to a host, every port taken "
        "by default and every defect of the page is reported on stderr as PAGE:LINE: message.",
        source_url=autopilot_page.SOURCE_URL,
    ).set_defaults(handler=lambda args: _run_page(args, autopilot_page.import_file))


def _page_parser(kinds: argparse._SubParsersAction, kind: str, help: str, description: str, source_url: str):
    """The arguments every page import takes: the page, --out, --fixups | --no-fixups, --source-url."""
    page = kinds.add_parser(kind, help=help, description=description)
    page.add_argument("file", type=Path, metavar="FILE.md", help="the page's Markdown source")
    page.add_argument("--out", type=Path, required=True, metavar="FILE.yaml", help="catalogue file to write")
    fix = page.add_mutually_exclusive_group()
    fix.add_argument(
        "--fixups",
        type=Path,
        metavar="FILE",
        help=f"reviewed corrections to the page (default: the shipped endpoint_firewall/endpoints/catalogue/fixups/{kind}.yaml)",
    )
    fix.add_argument("--no-fixups", action="store_true", help="apply no corrections")
    page.add_argument(
        "--source-url",
        default=source_url,
        metavar="URL",
        help=f"URL recorded for the source and used to resolve relative links (default: {source_url})",
    )
    page.set_defaults(page_kind=kind)
    return page


def _run_page(args: argparse.Namespace, import_file: Callable[[Path, page_fixups.Fixups, str], PageImport]) -> int:
    if not re.fullmatch(r"https://\S+", args.source_url):
        raise UserError(f"--source-url {args.source_url!r} is not an https:// URL")
    if args.out.exists() and args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; name the file to write")
    fixups = (
        page_fixups.NO_FIXUPS
        if args.no_fixups
        else page_fixups.load_fixups(args.fixups or page_fixups.shipped_fixups_path(args.page_kind))
    )
    result = import_file(args.file, fixups, args.source_url)
    for report in result.reports:
        print(f"{args.file}:{report.line}: {report.message}", file=sys.stderr)
    write_catalogue(result.catalogue, args.out, header=result.header())
    n = result.counts()
    print(
        f"wrote {args.out}: {n['entries']} entries ({n['endpoints']} endpoints, {n['peer-to-peer']} peer-to-peer, "
        f"{n['reference']} reference) in {n['areas']} service areas: {n['fqdns']} FQDNs, {n['wildcards']} "
        f"wildcards, {n['addresses']} addresses/CIDRs; {n['reports']} reports (stderr)"
    )
    return 0


def _today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def run_m365(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"https://\S+", args.source_url):
        raise UserError(f"--source-url {args.source_url!r} is not an https:// URL")
    areas = None
    if args.service_areas:
        areas = [a for value in args.service_areas for a in value.split(",") if a.strip()]
        if not areas:
            raise UserError("--service-area needs an area name, such as MEM")
    tls_ports = None
    if args.tls_ports is not None:
        try:
            tls_ports = parse_ports(args.tls_ports)
        except ValueError as err:
            raise UserError(f"--tls-ports: {err}") from None
    if args.out.exists() and args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; name the file to write")
    try:
        result = m365.import_file(
            args.file,
            source_date=args.source_date or _today_utc(),
            source_url=args.source_url,
            service_areas=areas,
            tls_ports=tls_ports,
        )
    except m365.UnknownServiceArea as err:
        raise UserError(f"--service-area: {err}") from None
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    write_catalogue(result.catalogue, args.out, header=result.header())
    doc = result.catalogue
    left_out = f"; {counted(len(result.omissions), 'item')} left out (see warnings)" if result.omissions else ""
    print(
        f"wrote {args.out}: {counted(len(doc.entries), 'entry', 'entries')} in "
        f"{counted(len(doc.service_areas), 'service area')} from {counted(result.record_count, 'record')}"
        f"{left_out}"
    )
    return 0
