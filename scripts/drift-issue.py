"""Open, update or close the one drift issue from the scheduled drift check's reports (``drift.yml``).

    python scripts/drift-issue.py REPORT_DIR

``REPORT_DIR`` holds one ``<stack>.json`` per stack checked, written by the workflow ``pulumi-stack.yml``:
``{"stack", "ref", "preview", "verify", "run"}``, where ``preview`` is the outcome of ``pulumi preview --refresh
--expect-no-changes`` and ``verify`` that of ``epfw verify aws`` (``success``, ``failure``, ``skipped``...).

A stack is clean when its preview succeeded and its verify did not fail. When a stack is not clean, the one open
issue labelled ``drift`` gets the new status as its body and a comment (or is created, with the label); when every
stack is clean and that issue is open, it is closed with a comment. Needs ``gh`` with ``GH_TOKEN`` (issues: write).
No reports (the check did not run, e.g. without credentials): nothing is done.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

LABEL = "drift"
TITLE = "Drift: deployed stacks differ from the code (or the drift check could not run)"


def gh(*args: str) -> str:
    return subprocess.run(["gh", *args], check=True, capture_output=True, text=True).stdout.strip()


def clean(report: dict) -> bool:
    return report.get("preview") == "success" and report.get("verify") != "failure"


def body(reports: list[dict]) -> str:
    lines = [
        "The scheduled drift check (`.github/workflows/drift.yml`) compares each deployed stack with the code it was "
        "deployed from: `pulumi preview --refresh --expect-no-changes`, and `epfw verify aws` where the stack deploys "
        'AWS. docs/deploying.md, "The drift check", says what to do.',
        "",
        "| stack | code (ref) | pulumi preview --refresh | epfw verify aws | run |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in reports:
        state = "no changes" if r.get("preview") == "success" else f"**{r.get('preview')}**"
        verify = r.get("verify") if r.get("verify") != "failure" else "**failure**"
        lines.append(f"| `{r['stack']}` | `{r.get('ref') or '-'}` | {state} | {verify} | {r.get('run', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: drift-issue.py REPORT_DIR", file=sys.stderr)
        return 2
    reports = sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in Path(argv[0]).glob("*.json")), key=lambda r: r["stack"]
    )
    if not reports:
        print("drift-issue: no reports (the check did not run): nothing to do")
        return 0
    drifted = [r["stack"] for r in reports if not clean(r)]
    number = gh(
        "issue", "list", "--label", LABEL, "--state", "open", "--json", "number", "--jq", ".[0].number // empty"
    )
    run = reports[0].get("run", "")
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as text:
        text.write(body(reports))
    if drifted:
        summary = f"Not clean: {', '.join(drifted)}."
        if number:
            gh("issue", "edit", number, "--body-file", text.name)
            gh("issue", "comment", number, "--body", f"{summary} {run}")
        else:
            gh("label", "create", LABEL, "--force", "--color", "D93F0B", "--description", "scheduled drift check")
            number = gh("issue", "create", "--title", TITLE, "--label", LABEL, "--body-file", text.name)
        print(f"drift-issue: {summary} ({number})")
    elif number:
        gh("issue", "edit", number, "--body-file", text.name)
        gh("issue", "close", number, "--comment", f"Every stack is clean again. {run}")
        print(f"drift-issue: every stack is clean; closed #{number}")
    else:
        print("drift-issue: every stack is clean")
    Path(text.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
