"""Run a Pulumi project's ``__main__.py`` under mocks (no CLI, no cloud); write what it registers as JSON.

    python mock_run.py [--project DIR (default: this example)] [--stack dev] [--out resources.json]

Each record: ``type``, ``name``, ``inputs`` (camelCase, as the engine sees them), ``custom``, and from the
mock monitor ``urn``, ``parent`` and ``dependencies`` (URNs), so ``endpoint_firewall.checks.policy.
validate_resources`` can run every guardrail, the ordering one included.
"""

import argparse
import asyncio
import json
import runpy
import sys
import threading
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

HERE = Path(__file__).resolve().parent


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []
        self.current = threading.local()  # the record of the registration running on this thread

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        record = {"type": args.typ, "name": args.name, "inputs": args.inputs, "custom": bool(args.custom)}
        self.resources.append(record)
        self.current.record = record
        outputs = dict(args.inputs)
        if args.typ.startswith("azure-native:"):
            outputs.setdefault("id", f"/subscriptions/00000000-0000-0000-0000-000000000000/mock/{args.name}")
        if args.typ.startswith("aws:"):
            outputs.setdefault("arn", f"arn:aws:network-firewall:eu-central-1:123456789012:mock/{args.name}")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class Monitor(MockMonitor):
    """The SDK's mock monitor, adding the URN, parent and dependencies of each registration to its record."""

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        self.mocks.current.record = None
        response = super().RegisterResource(request)
        record = self.mocks.current.record
        if record is not None:
            record.update(urn=response.urn, parent=request.parent or None,
                          dependencies=sorted(request.dependencies))
        return response


def config_of(project_dir: Path, stack: str) -> dict[str, str]:
    """The stack file's ``config:`` as the runtime holds it (structured values as JSON text)."""
    settings = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    path = project_dir / settings.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (data.get("config") or {}).items()}


def run(stack: str = "dev", project_dir: Path = HERE) -> list[dict[str, Any]]:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    mocks = Mocks()
    loop = asyncio.new_event_loop()  # before set_mocks: the root stack resource is created on this loop
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(config_of(project_dir, stack))
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=Monitor(mocks))

        @pulumi.runtime.test
        def program() -> None:
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

        program()
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return mocks.resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=HERE)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = json.dumps(run(args.stack, args.project.resolve()), indent=1, sort_keys=True, default=str)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
