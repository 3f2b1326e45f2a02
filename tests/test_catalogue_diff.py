"""`epfw catalogue diff OLD NEW`: entries added, removed and changed between two catalogues."""

from __future__ import annotations

import json
from pathlib import Path

from endpoint_firewall.catalogue_tools.diff import diff_catalogues, item_text
from endpoint_firewall.catalogue_tools.dump import write_catalogue
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.loader import (
    archived_catalogue_files,
    load_catalogue,
    parse_file,
    shipped_catalogue_files,
)
from endpoint_firewall.endpoints.models import Destination

SHIPPED = shipped_catalogue_files()
CURRENT = next(p for p in SHIPPED if p.name == "intune.yaml")
# The archived 2020 catalogue: fixed data for the diff's mechanics (it never changes again).
INTUNE = next(p for p in archived_catalogue_files() if p.name == "intune-2020-ja.yaml")
FIXTURE = Path(__file__).parent / "fixtures" / "m365" / "endpoints.json"


def diff(capsys, old: Path, new: Path, *extra: str) -> tuple[int, str, str]:
    rc = main(["catalogue", "diff", str(old), str(new), *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def edited(tmp_path: Path, name: str, old: str, new: str, count: int = 1) -> Path:
    text = INTUNE.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_identical_catalogues(capsys):
    rc, out, err = diff(capsys, INTUNE, INTUNE)
    assert rc == 0 and err == ""
    total = len(load_catalogue([INTUNE]).entries)
    assert out.splitlines()[0] == f"entries: 0 added, 0 removed, 0 changed, {total} unchanged"
    assert out.splitlines()[-1] == "no differences"


def test_one_entry_change_shows_exactly_that_entry(tmp_path, capsys):
    new = edited(
        tmp_path,
        "new.yaml",
        "      - portal.manage.microsoft.com\n      - m.manage.microsoft.com\n      - 52.175.12.209\n",
        "      - portal.manage.microsoft.com\n      - M.manage.microsoft.com\n      - 52.175.12.210\n"
        "      - extra.manage.microsoft.com\n",
    )
    rc, out, _ = diff(capsys, INTUNE, new)
    assert rc == 0
    total = len(load_catalogue([INTUNE]).entries)
    lines = out.splitlines()
    assert lines[0] == f"entries: 0 added, 0 removed, 1 changed, {total - 1} unchanged"
    assert lines[1] == "service areas: 0 added, 0 removed, 0 changed, 7 unchanged"
    changed = lines[lines.index("entries:") + 1 :]
    # the case change of m.manage.microsoft.com is not a change: values are compared normalised
    assert changed == [
        "~ intune-core-portal",
        "    destinations:",
        "      + 52.175.12.210/32",
        "      + extra.manage.microsoft.com",
        "      - 52.175.12.209/32",
    ]


def test_service_and_scalar_changes(tmp_path, capsys):
    new = edited(
        tmp_path,
        "new.yaml",
        "    description: Endpoint analytics data upload\n    required: false\n"
        '    destinations: ["*.events.data.microsoft.com"]\n    services: [{protocol: https, port: 443}]\n',
        "    description: Endpoint analytics uploads\n"
        '    destinations: ["*.events.data.microsoft.com"]\n'
        "    services: [{protocol: https, port: 443}, {protocol: tcp, port: 8443}]\n",
    )
    rc, out, _ = diff(capsys, INTUNE, new)
    assert rc == 0
    lines = out.splitlines()
    changed = lines[lines.index("entries:") + 1 :]
    assert changed == [
        "~ endpoint-analytics",
        '    description: "Endpoint analytics data upload" -> "Endpoint analytics uploads"',
        "    required: false -> true",
        "    services:",
        "      + tcp:8443",
    ]
    rc, out, _ = diff(capsys, INTUNE, new, "--format", "json")
    data = json.loads(out)
    assert data["entries"]["added"] == [] and data["entries"]["removed"] == []
    assert data["entries"]["changed"] == [
        {
            "id": "endpoint-analytics",
            "changes": {
                "description": {"old": "Endpoint analytics data upload", "new": "Endpoint analytics uploads"},
                "required": {"old": False, "new": True},
                "services": {"added": [{"protocol": "tcp", "port": 8443}], "removed": []},
            },
        }
    ]


def test_reordering_is_not_a_change(tmp_path, capsys):
    new = edited(
        tmp_path,
        "new.yaml",
        "services: [{protocol: http, port: 80}, {protocol: https, port: 443}]",
        "services: [{protocol: https, port: 443}, {protocol: http, port: 80}]",
        count=3,
    )
    rc, out, _ = diff(capsys, INTUNE, new)
    assert rc == 0 and out.splitlines()[-1] == "no differences"


def test_added_and_removed_entries_and_a_renamed_one_paired_by_its_destinations(tmp_path, capsys):
    old_doc = parse_file(INTUNE.read_text(encoding="utf-8"), str(INTUNE))
    wns = next(e for e in old_doc.entries if e.id == "wns")
    renamed = wns.model_copy(update={"id": "wns-renamed", "destinations": wns.destinations[:2]})  # 2 of 3 kept
    moved = wns.model_copy(update={"id": "wns-moved", "service_area": "intune-core"})  # other area: not paired
    new_doc = old_doc.model_copy(
        update={"entries": tuple(e for e in old_doc.entries if e.id != "wns") + (renamed, moved)}
    )
    new = tmp_path / "new.yaml"
    write_catalogue(new_doc, new)
    rc, out, _ = diff(capsys, INTUNE, new)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("entries: 1 added, 0 removed, 1 changed (1 of them renamed), ")
    body = lines[lines.index("entries:") + 1 :]
    assert body[0] == "+ wns-moved [intune-core] " + wns.description
    assert "    destinations: *.notify.windows.com, *.wns.windows.com, *.notify.live.net" in body
    assert "    services: https:443" in body
    at = body.index("~ wns-renamed")
    assert body[at + 1 : at + 5] == [
        "    renamed from wns (67% of destinations shared)",
        '    id: "wns" -> "wns-renamed"',
        "    destinations:",
        "      - *.notify.live.net",
    ]
    rc, out, _ = diff(capsys, INTUNE, new, "--format", "json")
    data = json.loads(out)
    assert [e["id"] for e in data["entries"]["added"]] == ["wns-moved"]
    assert data["entries"]["removed"] == []
    (changed,) = data["entries"]["changed"]
    assert changed["id"] == "wns-renamed" and changed["renamed_from"] == "wns"
    assert changed["destinations_shared"] == 0.667
    assert changed["changes"]["destinations"] == {"added": [], "removed": ["*.notify.live.net"]}
    assert data["old"] == [str(INTUNE)] and data["new"] == [str(new)]


def test_an_entry_sharing_less_than_half_its_destinations_is_not_paired(tmp_path, capsys):
    old_doc = parse_file(INTUNE.read_text(encoding="utf-8"), str(INTUNE))
    wns = next(e for e in old_doc.entries if e.id == "wns")
    extra = tuple(Destination.model_validate(v) for v in ("a.wns.example.com", "b.wns.example.com"))
    other = wns.model_copy(update={"id": "wns-other", "destinations": (wns.destinations[0], *extra)})  # 1 of 5
    new_doc = old_doc.model_copy(update={"entries": tuple(e for e in old_doc.entries if e.id != "wns") + (other,)})
    new = tmp_path / "new.yaml"
    write_catalogue(new_doc, new)
    _, out, _ = diff(capsys, INTUNE, new)
    assert out.splitlines()[0].startswith("entries: 1 added, 1 removed, 0 changed, ")


def test_folders_and_service_area_changes(tmp_path, capsys):
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    (old_dir / "intune.yaml").write_text(INTUNE.read_text(encoding="utf-8"), encoding="utf-8")
    (old_dir / "README.txt").write_text("not a catalogue file")
    edited(new_dir, "intune.yaml", "priority: 1600", "priority: 1650")
    assert (
        main(
            [
                "import",
                "m365",
                str(FIXTURE),
                "--out",
                str(new_dir / "m365.yaml"),
                "--source-date",
                "2024-06-28",
                "--service-area",
                "MEM",
            ]
        )
        == 0
    )
    capsys.readouterr()
    rc, out, _ = diff(capsys, old_dir, new_dir)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("entries: 1 added, 0 removed, 0 changed, ")
    assert lines[1] == "service areas: 1 added, 0 removed, 1 changed, 6 unchanged"
    assert lines[2] == "sources: 1 added, 0 removed, 0 changed, 1 unchanged"
    assert "+ m365-163 [mem] Microsoft Intune, endpoint set 163 (Allow)" in lines
    areas = lines[lines.index("service areas:") + 1 :]
    assert areas[:3] == [
        '+ mem: title "Microsoft Intune", priority 2400',
        "~ endpoint-analytics",
        "    priority: 1600 -> 1650",
    ]


def test_two_imports_of_changed_data(tmp_path, capsys):
    records = json.loads(FIXTURE.read_text())
    for record in records:
        if record["id"] == 163:
            record["urls"].append("enterpriseregistration.windows.net")
            record["tcpPorts"] = "443"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(records, indent=2))
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    for source, out in ((FIXTURE, old), (changed, new)):
        assert main(["import", "m365", str(source), "--out", str(out), "--source-date", "2024-06-28"]) == 0
    capsys.readouterr()
    rc, out, _ = diff(capsys, old, new)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "entries: 0 added, 0 removed, 1 changed, 7 unchanged"
    assert lines[lines.index("entries:") + 1 :] == [
        "~ m365-163",
        "    destinations:",
        "      + enterpriseregistration.windows.net",
        "    services:",
        "      - http:80",
    ]


def test_bad_input_is_refused_with_located_errors_on_both_sides(tmp_path, capsys):
    bad_old = edited(tmp_path, "old.yaml", "      - portal.manage.microsoft.com\n", "      - portal..manage\n")
    bad_new = edited(tmp_path, "new.yaml", "priority: 1600", "priority: 1500")
    rc, out, err = diff(capsys, bad_old, bad_new)
    assert rc == 1 and out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert any(line.startswith(f"{bad_old}:") and "empty label" in line for line in lines), err
    assert any(line.startswith(f"{bad_new}:") and "priority 1500" in line for line in lines), err


def test_missing_path_and_empty_folder(tmp_path, capsys):
    rc, _, err = diff(capsys, tmp_path / "nope.yaml", INTUNE)
    assert rc == 1 and err.startswith("epfw: ") and "no such file or folder" in err
    rc, _, err = diff(capsys, INTUNE, tmp_path)
    assert rc == 1 and "no .yaml or .yml files" in err


def test_diff_api_on_loaded_catalogues():
    catalogue = load_catalogue([INTUNE])
    result = diff_catalogues(catalogue, catalogue)
    assert result.empty
    assert result.entries.unchanged == len(catalogue.entries)


def test_the_2020_to_2026_migration_reads_counts_first_then_entries_then_what_closes(capsys):
    """The documented migration command: the archive against the whole catalogue folder (apple.yaml and
    android.yaml too), so "the firewall closes them" only names what no file of the new side allows. Before the
    counts, a line for each new shared-tenant wildcard (the 2026 page brought two)."""
    folder = CURRENT.parent
    old, new = load_catalogue([INTUNE]), load_catalogue(SHIPPED)
    rc, out, _ = diff(capsys, INTUNE, folder)
    assert rc == 0
    flags, lines = out.splitlines()[:2], out.splitlines()[2:]
    assert [f.split(" (")[0] for f in flags] == [
        "!! NEW SHARED-TENANT WILDCARD *.monitor.azure.com",
        "!! NEW SHARED-TENANT WILDCARD *.webpubsub.azure.com",
    ]
    renamed = [line for line in lines if line.startswith("    renamed from ")]
    added = {e.id for e in new.entries} - {e.id for e in old.entries}
    removed = {e.id for e in old.entries} - {e.id for e in new.entries}
    assert lines[0].startswith(f"entries: {len(added) - len(renamed)} added, {len(removed) - len(renamed)} removed, ")
    assert f"({len(renamed)} of them renamed)" in lines[0]
    before = {item_text(d) for e in old.entries for d in e.destinations}
    after = {item_text(d) for e in new.entries for d in e.destinations}
    assert lines[3] == (
        f"destinations (by value, over all entries): {len(after - before)} added, "
        f"{len(before - after)} removed, {len(before & after)} unchanged"
    )
    assert "+ intune-163 [intune-core] Intune client and host service" in lines
    assert "- intune-core-portal [intune-core] Company Portal and mobile device front ends" in lines
    start = lines.index("destinations no entry holds any more and nothing new covers (the firewall closes them):")
    end = lines.index("destinations no entry lists any more, still covered by a wildcard or range:")
    closed = set(" ".join(line.strip() for line in lines[start + 1 : end - 1]).split(", "))
    covered = " ".join(line.strip() for line in lines[end + 1 :]).split(", ")
    assert closed | {c.split(" (by ")[0] for c in covered} == before - after
    assert {"naprodimedatapri.azureedge.net", "52.175.12.209/32", "*.phobos.apple.com"} <= closed
    # a name the 2020 list named that today's *.manage.microsoft.com still allows is not "closed"
    assert "portal.manage.microsoft.com (by *.manage.microsoft.com)" in covered
    assert "portal.manage.microsoft.com" not in closed
    vendor = {item_text(d) for e in new.entries if e.service_area in ("apple", "android") for d in e.destinations}
    assert before & vendor and not (before & vendor) & (closed | set(covered))  # the vendor files count
    # wrapped: no line is longer than the width but a single value (one per line, or one that cannot be broken)
    long = [
        line
        for line in lines
        if len(line) > 110 and not line.startswith(("      + ", "      - ")) and len(line.split()) > 2
    ]
    assert long == [] and max(len(line) for line in lines) < 200


def test_a_new_shared_tenant_wildcard_is_flagged_first_on_a_line_of_its_own(tmp_path, capsys):
    catalogue = CURRENT.read_text(encoding="utf-8")
    row = "      - '*.webpubsub.azure.com'\n"
    assert catalogue.count(row) == 1
    new = tmp_path / "intune.yaml"
    new.write_text(catalogue.replace(row, row + "      - '*.queue.core.windows.net'\n      - '*.example.net'\n"))
    rc, out, _ = diff(capsys, CURRENT, new)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith(
        "!! NEW SHARED-TENANT WILDCARD *.queue.core.windows.net (entries intune-187): anyone can create an instance "
        "of Azure Storage account (Queue Storage) under queue.core.windows.net"
    )
    assert "https://learn.microsoft.com/azure/storage/common/storage-account-overview" in lines[0]
    assert "selection.sharedTenantWildcards: allow" in lines[0]
    assert lines[1].startswith("entries: 0 added, 0 removed, 1 changed")
    assert sum(line.startswith("!!") for line in lines) == 1  # *.example.net is a plain wildcard
    rc, out, _ = diff(capsys, CURRENT, new, "--format", "json")
    data = json.loads(out)
    assert data["shared_tenant_wildcards_added"] == [
        {
            "value": "*.queue.core.windows.net",
            "entries": ["intune-187"],
            "suffix": "queue.core.windows.net",
            "service": "Azure Storage account (Queue Storage)",
            "source": "https://learn.microsoft.com/azure/storage/common/storage-account-overview",
        }
    ]
    # one that was there before is not new: the unchanged catalogue flags nothing
    rc, out, _ = diff(capsys, CURRENT, CURRENT)
    assert (
        not out.startswith("!!")
        and json.loads(diff(capsys, CURRENT, CURRENT, "--format", "json")[1])["shared_tenant_wildcards_added"] == []
    )
