"""Benchmark of ``epfw logs explain`` (issue 21): ``make bench-logs`` or ``python bench/logs.py``.

Writes seeded AWS Network Firewall alert logs (JSON lines as AWS delivers them: a week of drops from 2,000 devices
to 400 destinations, a tenth of them to bare addresses, with a flow record every tenth line) of 100k and 1M records,
and times ``epfw logs explain --stack prod --cloud aws FILE --format json`` on each as a whole process (wall time,
peak RSS from ``wait4``: ``run.measure``), next to the floor: a Python process that reads the same file with
``json`` alone (``json.loads`` per line, nothing kept). Targets: at the largest size within 5x of the floor (at
100k the command's start, about 0.8 s of catalogue, plan and render, weighs more), and the peak at 1M no more than
1.2x the peak at 100k (memory flat). Prints a Markdown table; ``--records N`` adds a size, ``--keep DIR`` keeps
the files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  # the process measurement of bench/run.py

SEED = 21
FLOOR_X_MAX = 5.0
PEAK_GROWTH_MAX = 1.2  # peak at the largest size / peak at the smallest
FLOOR = "import json, sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n    json.loads(line)\n"
START = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def destinations(rng: random.Random) -> list[tuple[str | None, str, int, str]]:
    """(name or None, address, port, app protocol): listed and unlisted names of the vendors' domains, and addresses."""
    names = [f"host{i}.{rng.choice(('microsoft.com', 'apple.com', 'google.com', 'example.org'))}" for i in range(340)]
    names += ["ekop.intel.com", "identity.apple.com", "play.google.com", "courier.push.apple.com.example"]
    out: list[tuple[str | None, str, int, str]] = [(n, f"203.0.113.{i % 250}", 443, "tls") for i, n in enumerate(names)]
    out += [(None, f"198.51.100.{i}", rng.choice((123, 8443, 5228)), "") for i in range(56)]
    return out


def write_log(path: Path, records: int) -> None:
    rng = random.Random(SEED)
    targets = destinations(rng)
    weights = [1 / (i + 1) for i in range(len(targets))]  # a few destinations take most of the drops
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            name, ip, port, app = rng.choices(targets, weights)[0]
            when = START + dt.timedelta(seconds=i * 604_800 // records)
            event: dict = {
                "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
                "flow_id": rng.getrandbits(50),
                "event_type": "netflow" if i % 10 == 9 else "alert",
                "src_ip": f"10.20.{rng.randrange(8)}.{rng.randrange(250)}",
                "src_port": rng.randrange(20000, 65000),
                "dest_ip": ip,
                "dest_port": port,
                "proto": "UDP" if port == 123 else "TCP",
            }
            if app:
                event["app_proto"] = app
            if event["event_type"] == "netflow":
                event["netflow"] = {
                    "pkts": 3,
                    "bytes": 180,
                    "start": event["timestamp"],
                    "end": event["timestamp"],
                    "age": 0,
                }
            else:
                event["alert"] = {
                    "action": "blocked",
                    "signature_id": 1506515,
                    "rev": 1,
                    "signature": "default deny",
                    "category": "",
                    "severity": 3,
                }
                if name:
                    event["tls"] = {"sni": name, "version": "TLS 1.3"}
            line = {
                "firewall_name": "epfw-prod-fw",
                "availability_zone": "us-east-1a",
                "event_timestamp": str(int(when.timestamp())),
                "event": event,
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, action="append", help="sizes (default: 100000 and 1000000)")
    parser.add_argument("--keep", type=Path, help="keep the generated logs in this folder")
    args = parser.parse_args()
    sizes = sorted(args.records or [100_000, 1_000_000])
    folder = args.keep or Path(tempfile.mkdtemp(prefix="epfw-bench-logs-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes:
        log = folder / f"alerts-{size}.jsonl"
        if not log.exists():
            write_log(log, size)
        mb = log.stat().st_size / 1e6
        result = run.timed(
            "logs explain (aws)",
            f"{size:,} records, {mb:.0f} MB",
            run.epfw("logs", "explain", "--stack", "prod", "--cloud", "aws", str(log), "--format", "json"),
            floor=[run.PY, "-c", FLOOR, str(log)],
        )
        rows.append((size, result))
    peaks = [r.peak_mb for _, r in rows]
    print("\n| step | input | wall s | peak MB | floor s | floor MB | x floor |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for _, r in rows:
        print(
            f"| {r.step} | {r.data} | {r.wall_s:.2f} | {r.peak_mb:.0f} | {r.floor_s:.2f} | {r.floor_mb:.0f} | {r.x_floor} |"
        )
    failed = [r for _, r in rows if r.exit != 0]
    slow = [r for _, r in rows[-1:] if (r.x_floor or 0) > FLOOR_X_MAX]
    growth = peaks[-1] / peaks[0] if peaks[0] else 0.0
    print(
        f"\ntargets: within {FLOOR_X_MAX}x of the floor at {sizes[-1]:,} records: {'PASS' if not slow else 'FAIL'}; peak growth "
        f"{growth:.2f}x from {sizes[0]:,} to {sizes[-1]:,} records (<= {PEAK_GROWTH_MAX}x): "
        f"{'PASS' if growth <= PEAK_GROWTH_MAX else 'FAIL'}"
    )
    for r in failed:
        print(f"exit {r.exit}: {r.stderr_tail}")
    return 1 if failed or slow or growth > PEAK_GROWTH_MAX else 0


if __name__ == "__main__":
    sys.exit(main())
