"""``epfw logs explain`` as a table (a terminal of 80 columns), Markdown (a ticket) or JSON (scripts)."""

from __future__ import annotations

import json
import textwrap

from rich.console import Console
from rich.table import Table

from ..logs.report import Report
from ..logs.verdicts import Explained
from .tables import new_table

VERDICT_STYLES = {"selected": "bold red", "not-selected": "yellow", "not-expressible": "magenta", "unlisted": "dim"}
INDENT = 2
MEANINGS = {
    "selected": "listed and selected: a defect, or a rule in front",
    "not-selected": "listed; the stack's selection leaves it out",
    "not-expressible": "listed; this cloud cannot express it",
    "unlisted": "no entry lists it (a catalogue candidate, or other traffic)",
}


def headline(report: Report) -> str:
    return (
        f"stack {report.stack} on {report.cloud}: {report.records:,} records read, {len(report.denied)} "
        f"destination{'s' if len(report.denied) != 1 else ''} denied"
    )


def legend(report: Report) -> list[tuple[int, str, str]]:
    """(count, verdict, meaning) for every verdict."""
    return [(n, verdict, MEANINGS[verdict]) for verdict, n in report.counts().items()]


def _when(item: Explained) -> str:
    if not item.first:
        return "no time in the records"
    first, last = item.first[:16].replace("T", " "), (item.last or "")[:16].replace("T", " ")
    return first if first == last else f"{first} .. {last}"


def denied_table(report: Report) -> Table:
    """One line per destination: what, how often, from how many sources, and its verdict. A long name folds; the
    numbers and the verdict never do."""
    table = new_table("Denied destinations (selected first, then the most denied)")
    table.collapse_padding = True
    table.add_column("destination", ratio=1, overflow="fold")
    table.add_column("service", no_wrap=True, min_width=9)
    table.add_column("denied", justify="right", no_wrap=True)
    table.add_column("srcs", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True, min_width=len("not-expressible"))
    for item in report.denied:
        table.add_row(
            item.destination,
            f"{item.protocol}:{item.port}",
            f"{item.count:,}",
            f"{item.sources:,}",
            f"[{VERDICT_STYLES[item.verdict]}]{item.verdict}[/]",
        )
    return table


def print_why(report: Report, console: Console) -> None:
    """Under the table, each destination's verdict with its period, entries and reasons, wrapped to the console."""
    width = max(console.width - INDENT, 40)
    for item in report.denied:
        head = f"[{VERDICT_STYLES[item.verdict]}]{item.verdict}[/] {item.destination} {item.protocol}:{item.port}"
        console.print(head, highlight=False)
        entries = f"; entries {', '.join(item.entries)}" if item.entries else ""
        text = f"{_when(item)}{entries}: {item.why}"
        for line in textwrap.wrap(text, width, break_on_hyphens=False):
            console.print(" " * INDENT + line, highlight=False, markup=False, soft_wrap=True)


def print_unused(report: Report, console: Console) -> None:
    console.print("[bold]Rules no allowed record went through in the period[/] (candidates for a narrower selection)")
    width = max(console.width - 2 * INDENT, 40)
    for rule, entries in report.unused_rules:
        console.print(rule, highlight=False, markup=False)
        for line in textwrap.wrap(", ".join(entries), width, break_on_hyphens=False):
            console.print(" " * 2 * INDENT + line, style="dim", highlight=False, markup=False)


def unused_note(report: Report) -> str:
    if not report.rules_judged:
        if report.cloud == "aws":
            return "unused rules: not judged (no flow log records: AWS alert logs record drops, not passes)"
        return "unused rules: not judged (no allowed records in the logs)"
    if report.cloud == "aws":
        return "unused rules: address rules only (flow logs carry addresses, never names)"
    return ""


def print_table(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    console.print(headline(report), highlight=False)
    for n, verdict, meaning in legend(report):
        console.print(f"{n:>4} [{VERDICT_STYLES[verdict]}]{verdict:<15}[/] {meaning}", highlight=False)
    if report.denied:
        console.print()
        console.print(denied_table(report))
        console.print()
        print_why(report, console)
    if report.unused_rules:
        console.print()
        print_unused(report, console)
    note = unused_note(report)
    if note:
        console.print(note, highlight=False)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: pipes and asterisks (wildcards) escaped, on one line."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def markdown(report: Report) -> str:
    lines = [f"### Firewall denies explained: {headline(report)}", ""]
    lines += [f"- {n} `{verdict}`: {meaning}" for n, verdict, meaning in legend(report)]
    if report.denied:
        lines += [
            "",
            "| destination | service | denied | sources | first | last | verdict | entries | why |",
            "| --- | --- | ---: | ---: | --- | --- | --- | --- | --- |",
        ]
        for d in report.denied:
            entries = ", ".join(f"`{e}`" for e in d.entries)
            lines.append(
                f"| `{d.destination}` | {d.protocol}:{d.port} | {d.count:,} | {d.sources} | {d.first or ''} | "
                f"{d.last or ''} | **{d.verdict}** | {entries} | {_cell(d.why)} |"
            )
    if report.unused_rules:
        lines += ["", "#### Rules no allowed record went through", ""]
        lines += [f"- `{rule}` ({', '.join(entries)})" for rule, entries in report.unused_rules]
    note = unused_note(report)
    if note:
        lines += ["", f"_{note}_"]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
