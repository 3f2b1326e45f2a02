"""Benchmark of ``epfw`` on synthetic catalogues (issue 7): ``make bench`` or ``python bench/run.py``.

Every timed step is a whole process (interpreter start included), measured with ``os.wait4``: wall time
and that child's peak RSS. Each is shown next to its *floor*: a Python process that parses the same input
(``yaml.CSafeLoader`` / ``json``) and writes it out as JSON, nothing else. Then PASS/FAIL per timing target
and, for every failed one, a sampling profile of where the time goes (``bench/sample_profile.py``).

Only time and memory: what the output must be (addresses never widened, a one-entry change a one-resource diff,
every limit kept at 100k destinations) is checked by the tests (tests/test_cidr_merging.py,
tests/test_one_change_one_diff.py, tests/test_scale_limits.py) on the same generated data.

Writes ``bench/results/latest.json`` and ``bench/results/latest.md``; prints the Markdown. See
``bench/README.md`` for what each number means. ``--quick`` runs 1k and 10k only (a smoke test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
    return paths


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


# --- targets ------------------------------------------------------------------------------------------------


def find(runs: list[Run], step: str, data: str) -> Run | None:
    return next((r for r in runs if r.step == step and r.data == data), None)


def exponent(runs: list[Run], step: str, prefix: str) -> float | None:
    a, b = find(runs, step, f"{prefix} 10k"), find(runs, step, f"{prefix} 100k")
    if not a or not b or a.exit or b.exit:
        return None
    return round(math.log(b.wall_s / a.wall_s) / math.log(10), 2)


def targets(runs: list[Run]) -> list[dict[str, Any]]:
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
    return out


# --- profiles -------------------------------------------------------------------------------------------------


def run_profiles(failed: list[tuple[str, str]], runs: list[Run], start: float) -> dict[str, Any]:
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
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


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
        result: dict[str, Any] = {
            "machine": info,
            "runs": [r.to_json() for r in runs],
            "targets": targets(runs),
            "profiles": {},
        }
        if not args.no_profile:
            timing_failed = [pair for t in result["targets"] if t["status"] == "FAIL" for pair in t["profile"]]
            result["profiles"] = run_profiles(timing_failed, runs, start)
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
