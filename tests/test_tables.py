"""Tables fit the terminal (COLUMNS), keep names whole, list one destination per row; Markdown diffs list one
value per line; epfw preview lists resources in the same order every run and says the guardrails ran."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.cmd_preview import display_order
from endpoint_firewall.cli.main import main
from endpoint_firewall.components.resource_types import AWS_RULE_GROUP, AZURE_GROUP


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("renders")
    out = {}
    for stack in ("dev", "prod"):
        out[stack] = base / stack
        assert main(["render", "--project", str(ROOT), "--stack", stack, "--out", str(out[stack]), "--quiet"]) == 0
    return out


def names_in(folder: Path) -> set[str]:
    """Every group, IP group and rule group name, and every finding's destination, of a render folder; of the DNS
    layer, its rule group's or policy's name (its lists and rules are counted, their names are in summary.json)."""
    names = set()
    for path in (folder / "azure").rglob("*.json"):
        if path.name == "template.json" or "dns" in path.relative_to(folder).parts:  # template: the same bodies
            continue
        names.add(json.loads(path.read_text())["name"])
    for path in (folder / "aws").glob("*.json"):
        names.add(json.loads(path.read_text())["RuleGroupName"])
    summary = json.loads((folder / "summary.json").read_text())
    for cloud in ("azure", "aws"):
        for key in ("widened", "notExpressible"):
            names |= {f["destination"] for f in (summary.get(cloud) or {}).get(key, []) if f.get("destination")}
        dns = (summary.get(cloud) or {}).get("dns") or {}
        names |= {n for n in (dns.get("ruleGroup"), dns.get("policy")) if n}
    return names


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_show_fits_the_width_and_keeps_every_name_whole(renders, capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["show", str(renders["dev"])]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "…" not in out
    words = {w for line in lines for w in line.split()}
    missing = sorted(n for n in names_in(renders["dev"]) if n not in words)
    assert missing == [], missing


def test_not_deployed_lists_each_destination_once_per_table(renders, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["show", str(renders["dev"])]) == 0
    out = capsys.readouterr().out
    summary = json.loads((renders["dev"] / "summary.json").read_text())
    widened = summary["aws"]["widened"]
    assert widened, "the demo stack's AWS domain lists widen something"
    section = out.split("AWS: widened", 1)[1].split("─" * 20, 1)[1].split("under each destination", 1)[0]
    rows = [line.split()[0] for line in section.splitlines() if line[:1] not in ("", " ", "─")]
    expected = sorted({f["destination"] for f in widened})
    assert rows == expected  # one row per destination, sorted, each once
    by_dest: dict[str, set[str]] = {}
    for f in widened:
        by_dest.setdefault(f["destination"], set()).add(f["entry"])
    many = max(by_dest, key=lambda d: len(by_dest[d]))
    if len(by_dest[many]) > 3:
        assert f"(+{len(by_dest[many]) - 3} more)" in section


def test_markdown_diff_has_one_value_per_line(renders, capsys):
    args = ["diff", str(renders["dev"]), str(renders["prod"])]
    assert main([*args, "--format", "json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert main([*args, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    blocks = re.findall(r"```diff\n(.*?)```", markdown, flags=re.S)
    lines = [
        line for block in blocks for line in block.splitlines() if not re.search(r": \(\+\d+ more\)$", line)
    ]  # the count of what is past the first 50
    expected = [
        f"{sign} {label}: {value}"
        for change in changes
        for sign, part in (("+", change["added"]), ("-", change["removed"]))
        for label, values in sorted(part.items())
        for value in values[:50]
    ]
    assert lines and sorted(lines) == sorted(expected)


def test_preview_order_does_not_depend_on_registration_order():
    records = [
        {"type": t, "name": n, "custom": c}
        for t, n, c in [
            (AZURE_GROUP, "b", True),
            (AZURE_GROUP, "a", True),
            (AWS_RULE_GROUP, "r", True),
            ("endpoint-firewall:aws:NetworkFirewallRules", "aws", False),
        ]
    ]
    first = display_order(records)
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert display_order(shuffled) == first
    assert first[0]["name"] == "aws" and [r["name"] for r in first[-2:]] == ["a", "b"]


def test_preview_says_the_guardrails_ran_and_explains_rule_facts(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["preview", "--project", str(ROOT), "--stack", "dev"]) == 0
    first = capsys.readouterr().out
    # dev's DNS layer is in its rollout (mode alert): passed, with the advisory finding that says so per cloud
    assert re.search(
        r"^guardrails: \d+ policies over \d+ resources: passed \(2 advisory findings above\)$", first, flags=re.M
    ), first
    assert "rule facts: how many values the resource's rules carry" in " ".join(first.split())
    assert main(["preview", "--project", str(ROOT), "--stack", "dev"]) == 0
    assert capsys.readouterr().out == first  # the same order, run to run


def test_whole_entries_and_shared_destinations_are_rows_of_their_own():
    import io

    from rich.console import Console

    from endpoint_firewall.cli.tables import findings_tables

    summary = {
        "skipped": [
            {"entry": "ref-a", "destination": None, "reason": "reference only: A"},
            {"entry": "ref-b", "destination": None, "reason": "reference only: B"},
        ],
        "aws": {"widened": [{"entry": f"e{i}", "destination": "*.x.example", "reason": "any port"} for i in range(5)]},
    }
    out = io.StringIO()
    console = Console(file=out, width=80)
    for table in findings_tables(summary):
        console.print(table)
    lines = out.getvalue().splitlines()
    assert sum(line.startswith("*.x.example") for line in lines) == 1
    entries = " ".join(lines[lines.index(next(x for x in lines if x.startswith("*.x.example"))) + 1 :]).split()
    assert entries[:5] == ["e0", "e1", "e2", "(+2", "more)"]
    a = next(i for i, line in enumerate(lines) if line.startswith("  ref-a"))
    b = next(i for i, line in enumerate(lines) if line.startswith("  ref-b"))
    assert "reference only: A" in lines[a - 1] and "reference only: B" in lines[b - 1]
