"""A dependency-free sampling profiler for one ``epfw`` command: where the wall time goes.

Runs ``endpoint_firewall.cli.main.main(ARGS)`` in this process while a thread samples the main thread's
stack every few milliseconds (``sys._current_frames``). Cheap (a few per cent), so it can profile the
benchmark's largest runs, unlike cProfile (2-4x slower on this code). Prints JSON: the share of samples
in which each function was on the stack (inclusive) and on top of it (self).

    python bench/sample_profile.py [--interval 0.005] [--top 25] -- render --stack dev --catalogue X --out D
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _label(code) -> str:
    path = code.co_filename
    try:
        rel = os.path.relpath(path, ROOT)
    except ValueError:
        rel = path
    if rel.startswith(".venv"):
        rel = rel.split("site-packages/", 1)[-1]
    elif rel.startswith(".."):
        rel = Path(path).name
    return f"{rel}:{code.co_firstlineno}({code.co_name})"


def profile(argv: list[str], interval: float = 0.005, top: int = 25) -> dict:
    from endpoint_firewall.cli.main import main

    main_id = threading.get_ident()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    done = threading.Event()

    def sampler() -> None:
        nonlocal samples
        while not done.wait(interval):
            frame = sys._current_frames().get(main_id)
            if frame is None:
                continue
            samples += 1
            own[_label(frame.f_code)] += 1
            seen = set()
            while frame is not None:
                seen.add(_label(frame.f_code))
                frame = frame.f_back
            inclusive.update(seen)

    thread = threading.Thread(target=sampler, daemon=True)
    start = time.perf_counter()
    thread.start()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code: int | str | None = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    done.set()
    thread.join()
    wall = time.perf_counter() - start
    total = max(samples, 1)

    def share(counter: Counter[str], n: int, repo_only: bool = False) -> list[dict]:
        rows = [(k, v) for k, v in counter.most_common() if not repo_only or not _external(k)]
        return [
            {"function": k, "share": round(v / total, 3), "seconds": round(wall * v / total, 2)} for k, v in rows[:n]
        ]

    return {
        "argv": argv,
        "exit": code,
        "wall_s": round(wall, 2),
        "samples": samples,
        "inclusive_repo": share(inclusive, top, repo_only=True),
        "inclusive_all": share(inclusive, top),
        "self": share(own, top),
    }


def _external(label: str) -> bool:
    head = label.split(":", 1)[0]
    return not head.startswith("endpoint_firewall/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.005)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args()
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    print(json.dumps(profile(args, ns.interval, ns.top), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
