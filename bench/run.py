"""Benchmark of ``epfw`` on synthetic catalogues (issue 7): ``make bench`` or ``python bench/run.py``.

Every timed step is a whole process (interpreter start included), measured with ``os.wait4``: wall time
and that child's peak RSS. Each is shown next to its *floor*: a Python process that parses the same input
(``yaml.CSafeLoader`` / ``json``) and writes it out as JSON, nothing else. Then compactness (rules, groups
and capacity against a naive mapping and a lower bound; CIDR merging never widens), blast radius (one-entry
changes through ``epfw diff --format json``), correctness probes, PASS/FAIL per target and, for every
failed timing target, a sampling profile of where the time goes (``bench/sample_profile.py``).

Writes ``bench/results/latest.json`` and ``bench/results/latest.md``; prints the Markdown. See
``bench/README.md`` for what each number means. ``--quick`` runs 1k and 10k only (a smoke test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

PY = sys.executable
EPFW = str(Path(PY).parent / "epfw") if (Path(PY).parent / "epfw").exists() else None
SOURCE_DATE = "2024-06-28"
BUDGET_S = 570  # profiles are skipped past this, to keep `make bench` near 10 minutes on 2 cores

# Targets (issue 7)
DEMO_RENDER_MAX_S = 1.5
BIG_IMPORT_RENDER_MAX_S = 20.0
BIG_PEAK_MAX_MB = 1024.0
PREVIEW_MAX_S = 5.0
LINEAR_EXPONENT_MAX = 1.15  # log(t100k/t10k)/log(10); 1.0 is linear

FLOOR_YAML = (
    "import sys, json, yaml\n"
    "data = yaml.load(open(sys.argv[1], encoding='utf-8'), Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))\n"
    "json.dump(data, open(sys.argv[2], 'w', encoding='utf-8'), default=str)\n"
)
FLOOR_JSON = (
    "import sys, json\n"
    "data = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "json.dump(data, open(sys.argv[2], 'w', encoding='utf-8'))\n"
)
FLOOR_PREVIEW = (
    "import sys, json, yaml, pulumi\n"
    "data = yaml.load(open(sys.argv[1], encoding='utf-8'), Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))\n"
    "json.dump(data, open(sys.argv[2], 'w', encoding='utf-8'), default=str)\n"
)


# --- measuring a process --------------------------------------------------------------------------------


@dataclass
class Run:
    step: str
    data: str
    wall_s: float
    peak_mb: float
    exit: int
    argv: list[str]
    floor_s: float | None = None
    floor_mb: float | None = None
    repeats: int = 1
    note: str = ""
    stderr_tail: str = ""
    command: list[str] = field(default_factory=list)  # the argv as run (``argv`` is as shown); not in the results

    @property
    def x_floor(self) -> float | None:
        return round(self.wall_s / self.floor_s, 1) if self.floor_s else None

    def to_json(self) -> dict[str, Any]:
        row = {**asdict(self), "x_floor": self.x_floor}
        del row["command"]
        return row


def _gnu_time() -> str | None:
    path = shutil.which("time", path="/usr/bin:/bin")
    if path and subprocess.run([path, "-f", "%M", "-o", os.devnull, "true"], capture_output=True).returncode == 0:
        return path
    return None


GNU_TIME = _gnu_time()
# Without GNU time: a fresh small Python forks and execs the command and reports the child's rusage.
LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(f'{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}')\n"
)


def measure(argv: list[str], *, cwd: Path = ROOT, stdout: Path | None = None) -> tuple[float, float, int, str]:
    """Run ``argv``; return wall seconds, its peak RSS in MB, exit status and stderr's tail.

    The peak comes from ``wait4`` in a small launcher (GNU time, else a fresh Python), never from this
    process: Linux starts a child's ``ru_maxrss`` at its parent's resident size (fork copies the memory
    map; exec keeps the high-water mark), and this process holds the generated data.
    """
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err, open(stdout or os.devnull, "wb") as out:
        report = Path(tmp) / "rusage"
        wrapped = (
            [GNU_TIME, "-f", "%x %M", "-o", str(report), *argv]
            if GNU_TIME
            else [PY, "-S", "-c", LAUNCHER, str(report), *argv]
        )
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        proc.wait()
        wall = time.perf_counter() - start
        fields = report.read_text().strip().splitlines()[-1].split() if report.exists() else ["-1", "0"]
        code, peak_kb = int(fields[0]), int(fields[1])
        err.seek(0)
        tail = err.read().decode("utf-8", "replace")[-1500:]
    return wall, peak_kb / 1024, code, tail


def timed(
    step: str,
    data: str,
    argv: list[str],
    *,
    repeats: int = 1,
    floor: list[str] | None = None,
    stdout: Path | None = None,
    note: str = "",
) -> Run:
    """Median of ``repeats`` runs (peak: the largest), with the floor measured the same way."""
    walls, peaks, code, tail = [], [], 0, ""
    for _ in range(repeats):
        wall, peak, code, tail = measure(argv, stdout=stdout)
        walls.append(wall)
        peaks.append(peak)
        if code != 0:
            break
    run = Run(
        step,
        data,
        round(statistics.median(walls), 3),
        round(max(peaks), 1),
        code,
        _shown(argv),
        repeats=len(walls),
        note=note,
        stderr_tail=tail if code else "",
        command=list(argv),
    )
    if floor:
        fw, fp = [], []
        for _ in range(repeats):
            wall, peak, _, _ = measure(floor)
            fw.append(wall)
            fp.append(peak)
        run.floor_s, run.floor_mb = round(statistics.median(fw), 3), round(max(fp), 1)
    status = "ok" if code == 0 else f"EXIT {code}"
    print(f"  {step:<22} {data:<26} {run.wall_s:8.2f} s {run.peak_mb:8.1f} MB  {status}", flush=True)
    return run


def _shown(argv: list[str]) -> list[str]:
    out = []
    for a in argv:
        a = a.replace(str(ROOT) + "/", "").replace(PY, "python")
        out.append(("WORK/" + Path(a).name) if a.startswith(tempfile.gettempdir()) else a)
    return out


def epfw(*args: str) -> list[str]:
    return [EPFW, *args] if EPFW else [PY, "-m", "endpoint_firewall.cli.main", *args]


# --- machine ----------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "?"
    mem_mb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    import yaml

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "mem_mb": mem_mb,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "commit": commit + ("-dirty" if dirty else ""),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rusage_via": "GNU time (wait4 of the child)" if GNU_TIME else "Python launcher (wait4 of the child)",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --- data ---------------------------------------------------------------------------------------------------

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
BIG = "30k FQDNs + 60k CIDRs"


def make_data(work: Path, sizes: list[str], big: bool) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    for name in sizes:
        n = SIZES[name]
        paths[f"native-{name}"] = work / f"catalogue-{name}.yaml"
        paths[f"native-{name}"].write_text(generate.native_catalogue(n), encoding="utf-8")
        paths[f"m365-{name}"] = work / f"m365-{name}.json"
        paths[f"m365-{name}"].write_text(generate.m365_json(n), encoding="utf-8")
    if big:
        counts = generate.fqdn_cidr_counts(30_000, 60_000)
        paths["m365-big"] = work / "m365-30k-fqdns-60k-cidrs.json"
        paths["m365-big"].write_text(generate.m365_json(counts=counts), encoding="utf-8")
    paths["nested"] = work / "nested-wildcards.yaml"
    paths["nested"].write_text(NESTED_PROBE, encoding="utf-8")
    return paths


NESTED_PROBE = """\
schema_version: 1
sources:
  - {id: probe, title: Probe, url: https://example.com/probe, date: 2024-06-28}
service_areas:
  - {id: probe, title: Probe, priority: 3000}
entries:
  - id: nested-wildcards
    service_area: probe
    description: a wildcard inside a wildcard, and a host under the inner one (all valid)
    destinations: ["*.example.com", "*.b.c.example.com", "x.b.c.example.com"]
    services: [{protocol: https, port: 443}]
    provenance: {source: probe, section: nested}
"""


# --- timed steps ------------------------------------------------------------------------------------------


def step_startup() -> list[Run]:
    return [
        timed("interpreter start", "python -c pass", [PY, "-c", "pass"], repeats=5),
        timed(
            "CLI import",
            "epfw parser built",
            [PY, "-c", "from endpoint_firewall.cli.main import build_parser; build_parser()"],
            repeats=5,
        ),
    ]


def step_validate(data: dict[str, Path], sizes: list[str], work: Path) -> list[Run]:
    return [
        timed(
            "validate",
            f"native {name}",
            epfw("validate", str(data[f"native-{name}"])),
            floor=[PY, "-c", FLOOR_YAML, str(data[f"native-{name}"]), str(work / "floor.json")],
        )
        for name in sizes
    ]


def step_import(data: dict[str, Path], sizes: list[str], work: Path, big: bool) -> list[Run]:
    """Imports into ``work/imported-<size>.yaml`` (``imported-big.yaml`` for the 30k+60k case, rendered next)."""
    names = [(f"m365 {n}", data[f"m365-{n}"], work / f"imported-{n}.yaml") for n in sizes]
    if big:
        names.append((f"m365 {BIG}", data["m365-big"], work / "imported-big.yaml"))
    return [
        timed(
            "import m365",
            label,
            epfw("import", "m365", str(src), "--source-date", SOURCE_DATE, "--out", str(out)),
            repeats=3 if BIG in label else 1,  # the target's rows: median of 3 against noise
            floor=[PY, "-c", FLOOR_JSON, str(src), str(work / "floor.json")],
        )
        for label, src, out in names
    ]


BENCH_POLICY_CAPACITY = 500_000  # generated catalogues use more than AWS's default 30,000 per policy


def bench_project(work: Path) -> Path:
    """A project whose dev stack is the shipped one with ``aws.limits.policyCapacity`` raised (as if AWS had granted
    the quota), so the large renders measure rendering instead of failing on the quota check."""
    import yaml

    project = work / "bench-project"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    data = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    aws = data["config"]["endpoint-firewall:aws"]
    aws.setdefault("limits", {})["policyCapacity"] = BENCH_POLICY_CAPACITY
    (project / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return project


def step_render(data: dict[str, Path], sizes: list[str], work: Path, big: bool) -> list[Run]:
    shipped = sorted((ROOT / "endpoint_firewall" / "endpoints" / "catalogue").glob("*.yaml"))
    project = str(bench_project(work))
    runs = []
    runs.append(
        timed(
            "render (both clouds)",
            "demo stack (dev)",
            epfw("render", "--stack", "dev", "--out", str(work / "render-demo")),
            repeats=5,
            floor=[PY, "-c", FLOOR_YAML, str(shipped[0]), str(work / "floor.json")],
            note="as a user runs it: the tables are printed",
        )
    )
    for name in sizes:
        path = data[f"native-{name}"]
        runs.append(
            timed(
                "render (both clouds)",
                f"native {name}",
                epfw(
                    "render",
                    "--project",
                    project,
                    "--stack",
                    "dev",
                    "--catalogue",
                    str(path),
                    "--out",
                    str(work / f"render-{name}"),
                    "--quiet",
                ),
                floor=[PY, "-c", FLOOR_YAML, str(path), str(work / "floor.json")],
            )
        )
    if big and (work / "imported-big.yaml").exists():
        path = work / "imported-big.yaml"
        runs.append(
            timed(
                "render (both clouds)",
                f"imported {BIG}",
                epfw(
                    "render",
                    "--project",
                    project,
                    "--stack",
                    "dev",
                    "--catalogue",
                    str(path),
                    "--out",
                    str(work / "render-big"),
                    "--quiet",
                ),
                repeats=3,
                floor=[PY, "-c", FLOOR_YAML, str(path), str(work / "floor.json")],
            )
        )
    return runs


def step_preview(work: Path) -> list[Run]:
    stack_file = ROOT / "stacks" / "Pulumi.dev.yaml"
    return [
        timed(
            "preview (mocks)",
            "demo stack (dev)",
            epfw("preview", "--stack", "dev", "--format", "json"),
            repeats=3,
            floor=[PY, "-c", FLOOR_PREVIEW, str(stack_file), str(work / "floor.json")],
            note="floor imports pulumi too",
        )
    ]


# --- in-process: plan and render exactly as `epfw render --catalogue` does -----------------------------------


def dev_config():
    """The dev stack with the raised policy quota of :func:`bench_project` (what the CLI rows render with)."""
    from endpoint_firewall.config.stack_config import load_stack_file

    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    assert config.aws is not None  # the dev stack configures AWS
    limits = config.aws.limits.model_copy(update={"policy_capacity": BENCH_POLICY_CAPACITY})
    return config.model_copy(update={"aws": config.aws.model_copy(update={"limits": limits})})


def load_generated(path: Path):
    """A generated single-file catalogue, parsed with libyaml and validated by the loader's own models; the
    same Catalogue as ``load_catalogue([path])`` (checked on small files), without the loader's YAML cost,
    which the timed rows already measure."""
    import yaml

    from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue
    from endpoint_firewall.endpoints.models import CatalogueFile

    doc = CatalogueFile.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
    catalogue = Catalogue(
        entries=tuple(sorted(doc.entries, key=lambda e: e.id)),
        service_areas={a.id: a for a in sorted(doc.service_areas, key=lambda a: a.id)},
        sources={s.id: s for s in sorted(doc.sources, key=lambda s: s.id)},
        files=(str(path),),
    )
    if len(catalogue.entries) <= 2_000:
        assert catalogue == load_catalogue([path]), "load_generated differs from load_catalogue"
    return catalogue


def render_in_process(catalogue, config, stack: str = "dev"):
    from endpoint_firewall.planning.planner import build_plan
    from endpoint_firewall.planning.selection import Selection
    from endpoint_firewall.program.render import StackRender
    from endpoint_firewall.renderers.aws.render import render_aws
    from endpoint_firewall.renderers.azure.render import render_azure

    plan = build_plan(catalogue, Selection(), config.source_ranges, config.peer_ranges)
    azure_config, aws_config = config.enabled_cloud("azure"), config.enabled_cloud("aws")
    azure = render_azure(plan, azure_config) if azure_config else None
    aws = render_aws(plan, aws_config) if aws_config else None
    return StackRender(stack=stack, plan=plan, azure=azure, aws=aws)


# --- compactness ------------------------------------------------------------------------------------------


def compactness(catalogue, render, config) -> dict[str, Any]:
    """Rules, groups and capacity against one rule per entry (naive) and a lower bound."""
    from endpoint_firewall.endpoints.models import DestinationKind, Protocol
    from endpoint_firewall.planning.rules import RuleKind
    from endpoint_firewall.renderers.azure.model import json_size

    plan = render.plan
    selected = set(plan.selected_entries)
    entries = [e for e in catalogue.entries if e.id in selected]
    written = sum(len(e.destinations) for e in entries)
    out: dict[str, Any] = {"entries": len(entries), "destinations_written": written, "plan_rules": len(plan.rules)}
    # One rule per entry and kind of rule (names on HTTP(S)/TLS, names on plain TCP/UDP, addresses).
    naive_azure = sum(len(r.entries) for r in plan.rules)
    # One Suricata rule per destination host and service, as a line-by-line translation would write.
    naive_aws = 0
    for e in entries:
        for d in e.destinations:
            hosts = len(d.hosts()) if d.kind is not DestinationKind.NETWORK else 1
            naive_aws += hosts * len(e.services)
    if render.azure is not None:
        az = render.azure
        areas = {g.area for g in az.groups}
        total_bytes = sum(json_size(g.body) for g in az.groups)
        max_bytes = config.azure.limits.group_max_bytes
        per_ipg = config.azure.limits.ip_group_max_addresses
        v4_sets = [
            [d for d in r.destinations if ":" not in d]
            for r in plan.rules
            if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)
        ]  # Azure renders IPv4 only
        ipg_lower = sum(math.ceil(len(v) / per_ipg) for v in v4_sets if len(v) > config.azure.ip_group_threshold)
        out["azure"] = {
            "groups": len(az.groups),
            "groups_lower_bound": max(len(areas), math.ceil(total_bytes / max_bytes)),
            "rules": az.rule_count,
            "rules_naive_one_per_entry": naive_azure,
            "rules_lower_bound": len(plan.rules),
            "ip_groups": len(az.ip_groups),
            "ip_groups_lower_bound": ipg_lower,
            "group_bytes_total": total_bytes,
            "network_pairs": az.network_pairs,
        }
    if render.aws is not None:
        aw = render.aws
        name_pairs: set[tuple[str, str]] = set()
        address_sets: set[tuple[str, tuple]] = set()
        for r in plan.rules:
            if r.kind is RuleKind.HOSTNAME:
                buffers = {"http" if s.protocol is Protocol.HTTP else "tls" for s in r.services}
                name_pairs.update((b, d) for b in buffers for d in r.destinations)
            elif r.kind in (RuleKind.ADDRESS, RuleKind.PEER):
                for transport in {s.protocol.transport for s in r.services}:
                    ports = tuple(
                        sorted((s.port.first, s.port.last) for s in r.services if s.protocol.transport == transport)
                    )
                    address_sets.add((transport, ports))
        lower = len(name_pairs) + len(address_sets) + 1
        out["aws"] = {
            "groups": len(aw.groups),
            "groups_lower_bound": math.ceil(lower / config.aws.limits.capacity_max),
            "rules": sum(g.rule_count for g in aw.groups),
            "rules_naive_one_per_destination": naive_aws,
            "capacity_used": sum(g.used for g in aw.groups),
            "capacity_reserved": sum(g.capacity for g in aw.groups),
            "capacity_lower_bound": lower,
            "widened_findings": len(aw.widened),
        }
    return out


def _collapse(values) -> list[str]:
    nets = [ipaddress.ip_network(v) for v in values]
    out = []
    for version in (4, 6):
        out += [str(n) for n in ipaddress.collapse_addresses(n for n in nets if n.version == version)]  # type: ignore[type-var]  # one version
    return out


def _within(inner, outer) -> bool:
    """Every address of ``inner`` is in ``outer``."""
    outer = list(outer)
    return _collapse(outer + list(inner)) == _collapse(outer)


def cidr_never_widens(catalogue, render) -> dict[str, Any]:
    """Per plan address rule: the plan covers exactly what the catalogue wrote (merging shortens lists, never
    widens or loses), and what Azure and AWS render never covers more than that; whatever a cloud leaves
    out must be named in its notes (Azure: IPv6 destinations)."""
    from endpoint_firewall.endpoints.models import DestinationKind, EntryKind
    from endpoint_firewall.planning.rules import RuleKind

    plan = render.plan
    selected = set(plan.selected_entries)
    written: dict[tuple[str, frozenset], list[str]] = defaultdict(list)
    for e in catalogue.entries:
        if e.id not in selected or e.kind is not EntryKind.ENDPOINTS:
            continue
        key = (e.service_area, frozenset((s.protocol.transport, s.port.first, s.port.last) for s in e.services))
        written[key] += [d.value for d in e.destinations if d.kind is DestinationKind.NETWORK]
    problems: list[str] = []
    checked = merged_from = merged_to = 0
    azure_by_rule: dict[str, list[str]] = defaultdict(list)
    azure_noted: set[str] = set()
    if render.azure is not None:
        members = {g.id: g.addresses for g in render.azure.ip_groups}
        for g in render.azure.groups:
            for rule in g.rules:
                values = list(rule.get("destinationAddresses", []))
                for gid in rule.get("destinationIpGroups", []):
                    values += members[gid]
                if values:
                    azure_by_rule[rule["name"]] += values
        azure_noted = {n.destination for n in render.azure.not_expressible if n.destination}
    left_out = 0
    for rule in plan.rules:
        if rule.kind is not RuleKind.ADDRESS:
            continue
        key = (rule.area, frozenset((s.protocol.transport, s.port.first, s.port.last) for s in rule.services))
        source = written.get(key, [])
        got = _collapse(rule.destinations)
        checked += 1
        merged_from += len(set(source))
        merged_to += len(rule.destinations)
        if _collapse(source) != got:
            problems.append(f"plan rule {rule.name}: covers other addresses than the catalogue wrote")
        if render.azure is not None:
            az = [
                v
                for name, vs in azure_by_rule.items()
                if name == rule.name or name.startswith(rule.name + "-")
                for v in vs
            ]
            if not _within(az, rule.destinations):
                problems.append(f"azure rule {rule.name}: allows addresses the plan does not")
            missing = [d for d in rule.destinations if d in azure_noted]
            left_out += len(missing)
            if _collapse(az + missing) != got:
                problems.append(f"azure rule {rule.name}: loses addresses without a note")
    if render.aws is not None:
        # HOME_NET (the sources) and EXTERNAL_NET (its complement, which AWS needs defined) are not destinations
        aws_values = [
            v
            for g in render.aws.groups
            for name, vs in g.variables
            if name not in ("HOME_NET", "EXTERNAL_NET")
            for v in vs
        ]
        plan_values = [d for r in plan.rules if r.kind in (RuleKind.ADDRESS, RuleKind.PEER) for d in r.destinations]
        if not _within(aws_values, plan_values):
            problems.append("aws: the IP sets allow addresses the plan's address and peer rules do not")
        if _collapse(aws_values) != _collapse(plan_values):
            problems.append("aws: the IP sets lose addresses of the plan")
    return {
        "pass": not problems,
        "rules_checked": checked,
        "cidrs_written": merged_from,
        "cidrs_after_merge": merged_to,
        "azure_left_out_noted": left_out,
        "problems": problems[:20],
    }


# --- blast radius -------------------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    entry: str
    add: str | None = None
    remove: str | None = None


def pick_changes(catalogue, plan) -> list[Change]:
    """Four one-entry changes that each change the plan: add/remove one FQDN, add/remove one CIDR."""
    from endpoint_firewall.endpoints.models import DestinationKind
    from endpoint_firewall.planning.rules import RuleKind

    entries = {e.id: e for e in catalogue.entries}
    written_networks = [d.value for e in catalogue.entries for d in e.destinations if d.kind is DestinationKind.NETWORK]
    all_nets = [ipaddress.ip_network(v) for v in written_networks]
    names = {d.value for e in catalogue.entries for d in e.destinations}
    changes: dict[str, Change] = {}
    for rule in plan.rules:
        for dest, origins in rule.origins:
            if len(origins) != 1:
                continue
            entry = entries[origins[0]]
            if len(entry.destinations) < 2 or dest not in [d.value for d in entry.destinations]:
                continue
            kinds = {d.kind for d in entry.destinations if d.value == dest}
            if rule.kind is RuleKind.HOSTNAME and kinds == {DestinationKind.FQDN} and "rm-fqdn" not in changes:
                if sum(dest in r.destinations for r in plan.rules) == 1:
                    changes["rm-fqdn"] = Change("remove one FQDN", entry.id, remove=dest)
                    changes["add-fqdn"] = Change(
                        "add one FQDN", entry.id, add=_fresh_name(names, "bench-added-host.example-blast.net")
                    )
            if rule.kind is RuleKind.ADDRESS and kinds == {DestinationKind.NETWORK} and "rm-cidr" not in changes:
                net = ipaddress.ip_network(dest)
                if sum(1 for n in all_nets if n.version == net.version and (n.subnet_of(net) or net.subnet_of(n))) == 1:  # type: ignore[arg-type, misc]  # same version
                    changes["rm-cidr"] = Change("remove one CIDR", entry.id, remove=dest)
                    changes["add-cidr"] = Change("add one CIDR", entry.id, add=_fresh_net(all_nets))
        if len(changes) == 4:
            break
    return [changes[k] for k in ("add-fqdn", "rm-fqdn", "add-cidr", "rm-cidr") if k in changes]


def _fresh_name(used: set[str], base: str) -> str:
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{n}-{base}"
    return name


def _fresh_net(nets) -> str:
    for candidate in ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "100.64.77.0/24"):
        c = ipaddress.ip_network(candidate)
        if not any(n.version == 4 and (n.overlaps(c)) for n in nets):
            return candidate
    raise RuntimeError("no free test network")


def apply_change(catalogue, change: Change):
    from endpoint_firewall.endpoints.loader import Catalogue
    from endpoint_firewall.endpoints.models import Entry

    out = []
    for e in catalogue.entries:
        if e.id == change.entry:
            data = e.to_data()
            dests = [d for d in data["destinations"] if d != change.remove]
            if change.add:
                dests.append(change.add)
            data["destinations"] = dests
            e = Entry.model_validate(data)
        out.append(e)
    return Catalogue(
        entries=tuple(out), service_areas=catalogue.service_areas, sources=catalogue.sources, files=catalogue.files
    )


def edit_text(text: str, entry_id: str, change: Change) -> str:
    """The same change made to the YAML text, one line added or removed (block-style destination lists)."""
    from endpoint_firewall.endpoints import yaml_lines
    from endpoint_firewall.endpoints.models import Destination

    data, lines = yaml_lines.load(text, "catalogue")
    index = next(i for i, e in enumerate(data["entries"]) if e["id"] == entry_id)
    dests = data["entries"][index]["destinations"]
    rows = text.split("\n")
    if change.remove is not None:
        j = next(j for j, raw in enumerate(dests) if Destination.model_validate(raw).value == change.remove)
        line = lines[("entries", index, "destinations", j)] - 1
        assert rows[line].strip().startswith("- ") and rows[line].count(",") == 0, rows[line]
        del rows[line]
    if change.add is not None:
        last = lines[("entries", index, "destinations", len(dests) - 1)] - 1
        indent = rows[last][: len(rows[last]) - len(rows[last].lstrip())]
        rows.insert(last + 1, f"{indent}- {change.add}")
    return "\n".join(rows)


def diff_counts(old: Path, new: Path) -> dict[str, Any]:
    proc = subprocess.run(epfw("diff", str(old), str(new), "--format", "json"), capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-500:]}
    data = json.loads(proc.stdout)
    per: dict[str, Counter] = {"azure": Counter(), "aws": Counter()}
    names: dict[str, list[str]] = {"azure": [], "aws": []}
    for ch in data.get("changes", []):
        cloud = "aws" if ch["type"].startswith("aws:") else "azure"
        per[cloud][ch["status"]] += 1
        names[cloud].append(
            f"{ch['status']} {ch['name']}"
            + (f" ({', '.join(ch.get('replaceReasons') or [])})" if ch.get("replaceReasons") else "")
        )
    return {
        cloud: {
            "updated": per[cloud]["updated"],
            "replaced": per[cloud]["replaced"],
            "added": per[cloud]["added"],
            "removed": per[cloud]["removed"],
            "resources": names[cloud],
        }
        for cloud in per
    }


def blast_ok(result: dict[str, Any]) -> bool:
    if "error" in result:
        return False
    return all(
        result[c]["updated"] == 1
        and result[c]["replaced"] == 0
        and result[c]["added"] == 0
        and result[c]["removed"] == 0
        for c in ("azure", "aws")
    )


def blast_intune(work: Path) -> list[dict[str, Any]]:
    """The shipped Intune catalogue: base and changed copies rendered through the CLI, then epfw diff."""
    from endpoint_firewall.endpoints.loader import load_catalogue
    from endpoint_firewall.planning.planner import build_plan
    from endpoint_firewall.planning.selection import Selection

    shipped = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "intune.yaml"
    folder = work / "blast-intune"
    folder.mkdir(exist_ok=True)
    base = folder / "intune.yaml"
    shutil.copy(shipped, base)
    config = dev_config()
    catalogue = load_catalogue([base])
    plan = build_plan(catalogue, Selection(), config.source_ranges, config.peer_ranges)
    code = subprocess.run(
        epfw("render", "--stack", "dev", "--catalogue", str(base), "--out", str(folder / "r-base"), "--quiet"),
        capture_output=True,
    ).returncode
    out = []
    for k, change in enumerate(pick_changes(catalogue, plan)):
        variant = folder / f"v{k}" / "intune.yaml"
        variant.parent.mkdir(exist_ok=True)
        variant.write_text(edit_text(base.read_text(encoding="utf-8"), change.entry, change), encoding="utf-8")
        proc = subprocess.run(
            epfw("render", "--stack", "dev", "--catalogue", str(variant), "--out", str(folder / f"r-v{k}"), "--quiet"),
            capture_output=True,
            text=True,
        )
        result = (
            diff_counts(folder / "r-base", folder / f"r-v{k}")
            if proc.returncode == 0 and code == 0
            else {"error": proc.stderr.strip()[-500:]}
        )
        out.append(
            {
                "catalogue": "intune (shipped)",
                "change": change.label,
                "entry": change.entry,
                "value": change.add or change.remove,
                "method": "epfw render (CLI) x2 + epfw diff",
                **result,
                "pass": blast_ok(result),
            }
        )
    return out


def blast_big(catalogue, render, config, work: Path, label: str) -> list[dict[str, Any]]:
    """A large catalogue: the changed catalogue is rendered in-process by the functions `epfw render
    --catalogue` calls (load once: parsing 100k destinations again per variant would cost minutes), written
    with the same atomic writer, then compared by the real `epfw diff --format json`."""
    from endpoint_firewall.program.render import write_atomically

    folder = work / "blast-big"
    write_atomically(render.files(), folder / "r-base")
    out = []
    for k, change in enumerate(pick_changes(catalogue, render.plan)):
        start = time.perf_counter()
        changed = render_in_process(apply_change(catalogue, change), config)
        write_atomically(changed.files(), folder / f"r-v{k}")
        seconds = time.perf_counter() - start
        result = diff_counts(folder / "r-base", folder / f"r-v{k}")
        out.append(
            {
                "catalogue": label,
                "change": change.label,
                "entry": change.entry,
                "value": change.add or change.remove,
                "method": f"plan+render in-process ({seconds:.1f} s) + epfw diff",
                **result,
                "pass": blast_ok(result),
            }
        )
    return out


SPLIT_GROUP_BYTES = 60_000


def blast_split_rule(catalogue, render, config) -> dict[str, Any] | None:
    """Stress variant (informational, not a target): with groupMaxBytes lowered to 60 kB, Azure splits a big
    rule over several groups; one FQDN that sorts first in that rule is added to one entry. How many groups
    change? (Any area whose rule passes 2 MB, e.g. ~50k names on one set of services, is in this situation.)"""
    from endpoint_firewall.config.azure_config import AzureConfig
    from endpoint_firewall.planning.planner import build_plan
    from endpoint_firewall.planning.selection import Selection
    from endpoint_firewall.renderers.azure.render import render_azure

    az = config.azure
    small = AzureConfig.model_validate(
        {**az.model_dump(), "limits": {**az.limits.model_dump(), "group_max_bytes": SPLIT_GROUP_BYTES}}
    )
    base = render_azure(render.plan, small)
    split = sorted({r["name"][:-2] for g in base.groups for r in g.rules if r["name"].endswith("-2")})
    rule = next((r for r in render.plan.rules if r.name in split and r.kind.value == "fqdn"), None)
    if rule is None:
        return None
    entry = rule.origins[0][1][0]
    change = Change(
        "add one FQDN (sorts first in a rule split over groups)",
        entry,
        add="aaa-first-host-of-the-rule-with-a-long-enough-name.example-blast.net",
    )
    plan = build_plan(apply_change(catalogue, change), Selection(), config.source_ranges, config.peer_ranges)
    after = render_azure(plan, small)
    before = {g.name: json.dumps(g.body, sort_keys=True) for g in base.groups}
    now = {g.name: json.dumps(g.body, sort_keys=True) for g in after.groups}
    updated = sorted(n for n in before.keys() & now.keys() if before[n] != now[n])
    return {
        "rule": rule.name,
        "groups": len(base.groups),
        "group_max_bytes": SPLIT_GROUP_BYTES,
        "entry": entry,
        "value": change.add,
        "updated": updated,
        "added": sorted(now.keys() - before.keys()),
        "removed": sorted(before.keys() - now.keys()),
    }


def blast_hints(row: dict[str, Any]) -> list[str]:
    """Where a failed blast-radius row comes from, when the pattern is known."""
    hints = []
    aws = [r.split()[1] for r in row.get("aws", {}).get("resources", []) if r.startswith("updated ")]
    stems = Counter(re.sub(r"(-\d+)?-[0-9a-f]{6}$", "", name) for name in aws)
    if any(n > 1 for n in stems.values()):
        hints.append(
            "several shards of one AWS domain list changed: shards are buckets of a stable hash "
            "(renderers/sharding.py stable_shards), so names move between shards only when the bucket "
            "count doubles (the list outgrew its headroom); more headroom keeps such a change to one shard"
        )
    if row.get("aws", {}).get("replaced") or row.get("azure", {}).get("replaced"):
        hints.append(
            "a replacement: see replaceReasons (AWS capacity is part of the group name; pin it with aws.capacity)"
        )
    return hints


# --- probes -------------------------------------------------------------------------------------------------


def probes(data: dict[str, Path], work: Path) -> list[dict[str, Any]]:
    out = []
    validate = subprocess.run(epfw("validate", str(data["nested"])), capture_output=True, text=True)
    render = subprocess.run(
        epfw(
            "render",
            "--stack",
            "dev",
            "--catalogue",
            str(data["nested"]),
            "--out",
            str(work / "render-nested"),
            "--quiet",
        ),
        capture_output=True,
        text=True,
    )
    traceback = "Traceback" in render.stderr
    last = render.stderr.strip().splitlines()[-1] if render.stderr.strip() else ""
    out.append(
        {
            "probe": "nested wildcards (*.example.com, *.b.c.example.com, x.b.c.example.com) validate and render",
            "pass": validate.returncode == 0 and render.returncode == 0,
            "detail": f"validate exit {validate.returncode}; render exit {render.returncode}"
            + (f", traceback: {last}" if traceback else ""),
        }
    )
    return out


# --- targets ------------------------------------------------------------------------------------------------


def find(runs: list[Run], step: str, data: str) -> Run | None:
    return next((r for r in runs if r.step == step and r.data == data), None)


def exponent(runs: list[Run], step: str, prefix: str) -> float | None:
    a, b = find(runs, step, f"{prefix} 10k"), find(runs, step, f"{prefix} 100k")
    if not a or not b or a.exit or b.exit:
        return None
    return round(math.log(b.wall_s / a.wall_s) / math.log(10), 2)


def targets(runs: list[Run], blast: list[dict], cidr: dict, probe: list[dict]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, measured: str, profile: list[tuple[str, str]] | None = None) -> None:
        out.append(
            {
                "target": name,
                "status": "n/a" if ok is None else ("PASS" if ok else "FAIL"),
                "measured": measured,
                "profile": profile or [],
            }
        )

    demo = find(runs, "render (both clouds)", "demo stack (dev)")
    add(
        f"demo stack renders both clouds < {DEMO_RENDER_MAX_S} s incl. interpreter start",
        None if demo is None else demo.exit == 0 and demo.wall_s < DEMO_RENDER_MAX_S,
        "not run" if demo is None else f"{demo.wall_s:.2f} s (median of {demo.repeats}), exit {demo.exit}",
        [("render (both clouds)", "demo stack (dev)")],
    )
    imp, ren = find(runs, "import m365", f"m365 {BIG}"), find(runs, "render (both clouds)", f"imported {BIG}")
    if imp and ren:
        total = imp.wall_s + ren.wall_s
        peak = max(imp.peak_mb, ren.peak_mb)
        ok = imp.exit == 0 and ren.exit == 0
        add(
            f"{BIG}: import + render < {BIG_IMPORT_RENDER_MAX_S:.0f} s",
            ok and total < BIG_IMPORT_RENDER_MAX_S,
            f"import {imp.wall_s:.1f} s + render {ren.wall_s:.1f} s = {total:.1f} s (medians of {imp.repeats})",
            [("import m365", f"m365 {BIG}"), ("render (both clouds)", f"imported {BIG}")],
        )
        add(
            f"{BIG}: peak RSS < {BIG_PEAK_MAX_MB:.0f} MB (each process)",
            ok and peak < BIG_PEAK_MAX_MB,
            f"import {imp.peak_mb:.0f} MB, render {ren.peak_mb:.0f} MB",
        )
    else:
        add(f"{BIG}: import + render < {BIG_IMPORT_RENDER_MAX_S:.0f} s", None, "not run (--quick)")
    for step, prefix in (("validate", "native"), ("import m365", "m365"), ("render (both clouds)", "native")):
        e = exponent(runs, step, prefix)
        add(
            f"{step}: cost grows linearly (exponent log(t100k/t10k)/log 10 <= {LINEAR_EXPONENT_MAX})",
            None if e is None else e <= LINEAR_EXPONENT_MAX,
            "not run" if e is None else f"exponent {e}",
            [(step, f"{prefix} 100k")],
        )
    prev = find(runs, "preview (mocks)", "demo stack (dev)")
    add(
        f"preview under mocks of the demo stack < {PREVIEW_MAX_S:.0f} s",
        None if prev is None else prev.exit == 0 and prev.wall_s < PREVIEW_MAX_S,
        "not run" if prev is None else f"{prev.wall_s:.2f} s (median of {prev.repeats})",
        [("preview (mocks)", "demo stack (dev)")],
    )
    for catalogue in sorted({b["catalogue"] for b in blast}):
        rows = [b for b in blast if b["catalogue"] == catalogue]
        bad = [
            f"{b['change']}: "
            + (
                "error"
                if "error" in b
                else f"azure {b['azure']['updated']} updated/{b['azure']['replaced']} replaced, "
                f"aws {b['aws']['updated']} updated/{b['aws']['replaced']} replaced"
            )
            for b in rows
            if not b["pass"]
        ]
        add(
            f"blast radius, {catalogue}: one-entry change updates 1 resource per cloud, replaces 0",
            not bad,
            f"{len(rows) - len(bad)}/{len(rows)} changes as targeted" + (f"; {'; '.join(bad)}" if bad else ""),
        )
    for name, c in cidr.items():
        add(
            f"CIDR merging never widens ({name})",
            c["pass"],
            f"{c['rules_checked']} address rules; {c['cidrs_written']} CIDRs written -> {c['cidrs_after_merge']} "
            f"after merging; Azure leaves out {c['azure_left_out_noted']} (IPv6, noted)"
            + (f"; {c['problems'][0]}" if c["problems"] else ""),
        )
    for p in probe:
        add(f"probe: {p['probe']}", p["pass"], p["detail"])
    return out


# --- profiles -------------------------------------------------------------------------------------------------


def _share(rows: list[dict], *needles: str) -> float:
    """Summed share of the profile rows whose function label contains every needle."""
    return sum(r["share"] for r in rows if all(n in r["function"] for n in needles))


def _inclusive(prof: dict, *needles: str) -> float:
    return max(_share(prof["inclusive_repo"], *needles), _share(prof["inclusive_all"], *needles))


@dataclass(frozen=True)
class Advice:
    """A known hot spot: where it is (a module under endpoint_firewall/ and a function in it, which
    tests/test_bench.py checks still exist), its symptom in a profile, and the proposed fix."""

    module: str
    function: str
    symptom: Callable[[dict], bool]
    fix: str


# A symptom looks at what the time is spent on (e.g. the pure-Python YAML scanner's self time), not just at a
# function's name, so that a fixed hot spot stops being reported. Fixed ones are removed from the list (the
# loader's line maps, write_catalogue's single parse, Rule.origin_of's dict, the M365 importer's pure-Python JSON
# scanner: see git history).
ADVICE: tuple[Advice, ...] = (
    Advice(
        "endpoints/yaml_lines.py",
        "_compose",
        lambda p: (
            _share(p["self"], "yaml/scanner.py")
            + _share(p["self"], "yaml/reader.py")
            + _share(p["self"], "yaml/emitter.py")
            + _share(p["self"], "yaml/serializer.py")
            >= 0.10
        ),
        "YAML goes through PyYAML's pure-Python scanner or emitter: this PyYAML has no libyaml "
        "(yaml.__with_libyaml__ is False), which endpoints/yaml_lines.py and catalogue_tools/dump.py use when present: "
        "install a PyYAML built with libyaml.",
    ),
    Advice(
        "endpoints/models.py",
        "_classify",
        lambda p: _inclusive(p, "endpoints/models.py", "(_parse)") >= 0.15,
        "Destination validation (endpoints/models.py _classify -> names.normalise_network/ipaddress) runs per "
        "destination, and the importer validates each one again when it reads back what it wrote: a fast path "
        "for text already in canonical form, or validating once, would halve it.",
    ),
)


def run_profiles(failed: list[tuple[str, str]], runs: list[Run], start: float, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for step, data in failed:
        key = f"{step} / {data}"
        if key in out:
            continue
        run = find(runs, step, data)
        if run is None:
            continue
        elapsed = time.perf_counter() - start
        if elapsed + run.wall_s > BUDGET_S:
            out[key] = {"skipped": f"time budget ({elapsed:.0f} s used of {BUDGET_S} s)"}
            continue
        argv = (
            run.command[1:] if run.command[0] == EPFW else run.command[3:]
        )  # drop `epfw` or `python -m endpoint_firewall.cli.main`
        print(f"  profiling {key} ...", flush=True)
        proc = subprocess.run(
            [PY, str(BENCH / "sample_profile.py"), "--top", "14", "--", *argv], cwd=ROOT, capture_output=True, text=True
        )
        try:
            prof = json.loads(proc.stdout)
        except json.JSONDecodeError:
            out[key] = {"error": proc.stderr[-800:]}
            continue
        prof["advice"] = [a.fix for a in ADVICE if a.symptom(prof)]
        out[key] = prof
    return out


# --- report ---------------------------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# epfw benchmark",
        "",
        f"Machine: {m['nproc']} CPUs ({m['usable_cpus']} usable), {m['cpu']}, {m['mem_mb']} MB RAM; "
        f"{m['implementation']} {m['python']}; PyYAML {m['pyyaml']} (libyaml {'available' if m['libyaml'] else 'missing'}); "
        f"commit {m['commit']}; {m['date']}; whole run {result['elapsed_s']:.0f} s; load average (1, 5, 15 min) "
        f"{m['load_average']} at the start, {m.get('load_average_end')} at the end (other work on the machine "
        "shows up as noise in the small rows).",
        "",
        "Each row is a whole process (interpreter start included): wall time and peak RSS from `os.wait4`. "
        "The floor is a Python process that parses the same input (libyaml / json) and writes it as JSON.",
        "",
        "| step | input | wall s | peak MB | floor s | floor MB | x floor | exit |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["runs"]:
        floor_s = f"{r['floor_s']:.2f}" if r["floor_s"] is not None else ""
        floor_mb = f"{r['floor_mb']:.0f}" if r["floor_mb"] is not None else ""
        x = f"{r['wall_s'] / r['floor_s']:.1f}" if r["floor_s"] else ""
        rep = f" (median of {r['repeats']})" if r["repeats"] > 1 else ""
        lines.append(
            f"| {r['step']} | {r['data']}{rep} | {r['wall_s']:.2f} | {r['peak_mb']:.0f} | {floor_s} | "
            f"{floor_mb} | {x} | {r['exit']} |"
        )
    lines += ["", "## Targets", "", "| target | status | measured |", "| --- | --- | --- |"]
    for t in result["targets"]:
        lines.append(f"| {t['target']} | **{t['status']}** | {t['measured']} |")
    for name, c in result["compactness"].items():
        lines += [
            "",
            f"## Compactness: {name}",
            "",
            f"{c['entries']} entries, {c['destinations_written']} destinations written, {c['plan_rules']} plan "
            "rules (one per service area, kind and set of services).",
            "",
            "| cloud | measure | rendered | naive | lower bound |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        if "azure" in c:
            a = c["azure"]
            lines += [
                f"| Azure | rule collection groups | {a['groups']} | | {a['groups_lower_bound']} |",
                f"| Azure | rules | {a['rules']} | {a['rules_naive_one_per_entry']} (one per entry and kind) | "
                f"{a['rules_lower_bound']} (distinct area x kind x services) |",
                f"| Azure | IP Groups | {a['ip_groups']} | | {a['ip_groups_lower_bound']} |",
                f"| Azure | network pairs (max 20,000) | {a['network_pairs']} | | |",
                f"| Azure | group JSON bytes, total | {a['group_bytes_total']:,} | | |",
            ]
        if "aws" in c:
            a = c["aws"]
            lines += [
                f"| AWS | stateful rule groups | {a['groups']} | | {a['groups_lower_bound']} |",
                f"| AWS | rules (Suricata, incl. generated) | {a['rules']} | {a['rules_naive_one_per_destination']} "
                "(one per destination and service) | |",
                f"| AWS | capacity used / reserved | {a['capacity_used']} / {a['capacity_reserved']} | "
                f"{a['rules_naive_one_per_destination']} | {a['capacity_lower_bound']} (distinct buffer x name, "
                "address service sets, default deny) |",
            ]
    if result["cidr"]:
        lines += ["", "## CIDR merging", ""]
        for name, c in result["cidr"].items():
            lines.append(
                f"- {name}: {'never widens' if c['pass'] else 'PROBLEM'}; {c['rules_checked']} address rules, "
                f"{c['cidrs_written']} CIDRs written, {c['cidrs_after_merge']} after merging; Azure leaves "
                f"out {c['azure_left_out_noted']} IPv6 destinations, each named in its notes"
                + ("".join(f"\n  - {p}" for p in c["problems"]))
            )
    if result["blast"]:
        lines += [
            "",
            "## Blast radius (one-entry change, `epfw diff --format json`)",
            "",
            "| catalogue | change | value | Azure updated / replaced / added / removed | AWS updated / replaced / "
            "added / removed | ok | method |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for b in result["blast"]:
            if "error" in b:
                lines.append(
                    f"| {b['catalogue']} | {b['change']} | `{b['value']}` | error | {b['error'][:80]} | FAIL | |"
                )
                continue
            cells = [
                f"{b[c]['updated']} / {b[c]['replaced']} / {b[c]['added']} / {b[c]['removed']}"
                for c in ("azure", "aws")
            ]
            lines.append(
                f"| {b['catalogue']} | {b['change']} | `{b['value']}` | {cells[0]} | {cells[1]} | "
                f"{'yes' if b['pass'] else '**no**'} | {b['method']} |"
            )
        lines.append("")
        for b in result["blast"]:
            if not b.get("pass") and "error" not in b:
                lines.append(
                    f"- {b['catalogue']}, {b['change']}: azure: {', '.join(b['azure']['resources']) or '-'}; "
                    f"aws: {', '.join(b['aws']['resources']) or '-'}"
                )
                lines += [f"  - proposed fix: {h}" for h in b.get("hints", [])]
        split = result.get("blast_split_rule")
        if split:
            lines += [
                "",
                f"Stress variant (informational): Azure `groupMaxBytes` {split['group_max_bytes']:,} so that rule "
                f"`{split['rule']}` is split over several of the {split['groups']} groups; adding "
                f"`{split['value']}` to `{split['entry']}` updates {len(split['updated'])} group(s): "
                f"{', '.join(split['updated']) or '-'}"
                + (f"; adds {', '.join(split['added'])}" if split["added"] else "")
                + (f"; removes {', '.join(split['removed'])}" if split["removed"] else "")
                + (
                    ". Parts are buckets of a stable hash (renderers/azure/layout.py split_rule, "
                    "renderers/sharding.py stable_shards): several parts change only when the bucket count "
                    "doubles (the rule outgrew its headroom)."
                    if len(split["updated"]) > 1
                    else "."
                ),
            ]
    if result["profiles"]:
        lines += ["", "## Where the time goes (failed timing targets; sampling profile)", ""]
        for key, p in result["profiles"].items():
            if "skipped" in p or "error" in p:
                lines.append(f"- {key}: {p.get('skipped') or p.get('error')}")
                continue
            lines += [
                f"### {key} ({p['wall_s']} s in-process, {p['samples']} samples)",
                "",
                "| function (repo, inclusive) | share | s |",
                "| --- | ---: | ---: |",
            ]
            lines += [
                f"| `{row['function']}` | {row['share']:.0%} | {row['seconds']} |" for row in p["inclusive_repo"][:12]
            ]
            lines += ["", "| function (self time, any) | share | s |", "| --- | ---: | ---: |"]
            lines += [f"| `{row['function']}` | {row['share']:.0%} | {row['seconds']} |" for row in p["self"][:8]]
            if p.get("advice"):
                lines += ["", "Proposed fixes:", ""] + [f"- {a}" for a in p["advice"]]
            else:
                lines += ["", "No known hot spot pattern matched: see the largest functions above."]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@dataclass
class InProcess:
    """What the bench checks in-process: compactness and CIDR merging per catalogue, the blast-radius rows and the
    split-rule stress variant (None when no rule is split, or the large render failed)."""

    compactness: dict[str, Any]
    cidr: dict[str, Any]
    blast: list[dict[str, Any]]
    split: dict[str, Any] | None


def in_process_checks(largest: Path, label: str, work: Path) -> InProcess:
    """Compactness, CIDR merging and blast radius of the demo stack and of the largest generated catalogue."""
    print("compactness, CIDR merging and blast radius ...", flush=True)
    from endpoint_firewall.endpoints.loader import load_catalogue

    config = dev_config()
    demo_catalogue = load_catalogue()
    demo = render_in_process(demo_catalogue, config)
    checked = InProcess(
        compactness={"demo stack (Intune)": compactness(demo_catalogue, demo, config)},
        cidr={"demo stack (Intune)": cidr_never_widens(demo_catalogue, demo)},
        blast=blast_intune(work),
        split=None,
    )
    t0 = time.perf_counter()
    try:
        big_catalogue = load_generated(largest)
        big_render = render_in_process(big_catalogue, config)
    except Exception as err:  # reported, not hidden
        print(f"  {label}: in-process render failed: {err!r}", flush=True)
        checked.blast.append(
            {
                "catalogue": label,
                "change": "(base render)",
                "value": "",
                "entry": "",
                "error": repr(err),
                "pass": False,
                "method": "in-process",
            }
        )
        return checked
    print(f"  {label} loaded and rendered in-process in {time.perf_counter() - t0:.1f} s", flush=True)
    checked.compactness[label] = compactness(big_catalogue, big_render, config)
    checked.cidr[label] = cidr_never_widens(big_catalogue, big_render)
    checked.blast += blast_big(big_catalogue, big_render, config, work, label)
    checked.split = blast_split_rule(big_catalogue, big_render, config)
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, no 30k+60k case (smoke test)")
    parser.add_argument("--no-profile", action="store_true", help="do not profile failed timing targets")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default bench/results)")
    parser.add_argument("--keep", type=Path, help="keep the generated data and renders in this folder")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sizes = ["1k", "10k"] if args.quick else ["1k", "10k", "100k"]
    big = not args.quick
    info = machine()
    print(
        f"machine: nproc {info['nproc']}, {info['cpu']}, Python {info['python']}, libyaml {info['libyaml']}, "
        f"commit {info['commit']}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="epfw-bench-"))
    try:
        t0 = time.perf_counter()
        data = make_data(work, sizes, big)
        print(f"data generated in {time.perf_counter() - t0:.1f} s ({', '.join(sorted(data))})", flush=True)
        runs = (
            step_startup()
            + step_validate(data, sizes, work)
            + step_import(data, sizes, work, big)
            + step_render(data, sizes, work, big)
            + step_preview(work)
        )
        checked = in_process_checks(data[f"native-{sizes[-1]}"], f"native {sizes[-1]}", work)
        comp, cidr, blast = checked.compactness, checked.cidr, checked.blast
        probe = probes(data, work)
        result: dict[str, Any] = {
            "machine": info,
            "runs": [],
            "targets": [],
            "compactness": comp,
            "cidr": cidr,
            "blast": blast,
            "blast_split_rule": checked.split,
            "probes": probe,
            "profiles": {},
        }
        for row in blast:
            row["hints"] = blast_hints(row) if not row.get("pass") else []
        result["runs"] = [r.to_json() for r in runs]
        result["targets"] = targets(runs, blast, cidr, probe)
        if not args.no_profile:
            timing_failed = [pair for t in result["targets"] if t["status"] == "FAIL" for pair in t["profile"]]
            result["profiles"] = run_profiles(timing_failed, runs, start, work)
        result["elapsed_s"] = round(time.perf_counter() - start, 1)
        result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        text = markdown(result)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "latest.json").write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        (args.out / "latest.md").write_text(text, encoding="utf-8")
        print()
        print(text)
        failed = [t["target"] for t in result["targets"] if t["status"] == "FAIL"]
        print(
            f"{len(failed)} target(s) failed; results in {args.out}/latest.md and latest.json "
            f"({result['elapsed_s']:.0f} s)"
        )
        return 0
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
