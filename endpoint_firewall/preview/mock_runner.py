"""Run a project's real ``__main__.py`` under Pulumi mocks and record every resource it registers.

No Pulumi CLI, no cloud: the SDK's own mock monitor answers each registration. This file has no
imports from the package on purpose: ``epfw preview --base REF`` runs it as a script against the
program *at another git ref*, whose package is put on ``PYTHONPATH`` instead of the installed one.

    python mock_runner.py --project DIR --stack NAME --out FILE.json
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import runpy
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

FAKE_ACCOUNT = "123456789012"
UNKNOWN = "<unknown>"  # how a record shows an input not known during a preview (another resource's output)


Answer = Callable[[pulumi.runtime.MockResourceArgs], tuple[str, dict]]
"""How the mocks answer a registration: its physical id and its outputs."""


def echo_inputs(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
    """The default answer: the inputs back, plus an ARN (AWS) or a resource id (Azure) where the input has none."""
    outputs = dict(args.inputs)
    if args.typ.startswith("aws:"):
        kind = args.typ.split(":")[-1].lower()
        outputs.setdefault("arn", f"arn:aws:network-firewall:eu-west-1:{FAKE_ACCOUNT}:{kind}/{args.name}")
    if args.typ.startswith("azure-native:"):
        outputs.setdefault("id", f"/subscriptions/00000000-0000-0000-0000-000000000000/mock/{args.name}")
    if args.typ == "azure-native:resources:ResourceGroup" and "resourceGroupName" in outputs:
        outputs.setdefault("name", outputs["resourceGroupName"])  # a consumer's group, named by its input
    return f"{args.name}-id", outputs


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers registrations (``answer``) and keeps a record of each, in registration order.

    ``resources``: ``{type, name, inputs, custom}`` per resource, and from :class:`RecordingMonitor` its ``urn``,
    ``parent``, ``dependencies`` and, when any is set, ``options``: the lifecycle options that decide how Pulumi
    deletes and replaces it (``protect``, ``retainOnDelete``, ``deleteBeforeReplace``, ``replaceOnChanges``), the
    shape ``epfw preview`` reads and prints; ``options``: by URN, the ``provider`` and every one of those options
    each registration carried; ``outputs``: by URN, what each component registered with ``register_outputs``.
    """

    def __init__(self, answer: Answer = echo_inputs) -> None:
        self.answer = answer
        self.resources: list[dict[str, Any]] = []
        self.options: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.current = threading.local()  # the record of the registration running on this thread

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        record = {"type": args.typ, "name": args.name, "inputs": _plain(args.inputs), "custom": bool(args.custom)}
        self.resources.append(record)
        self.current.record = record
        return self.answer(args)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, adding the URN, parent, dependencies and options of each registration to its
    record, and keeping what components register as outputs."""

    mocks: RecordingMocks

    def RegisterResource(self, request):  # the gRPC method's name
        self.mocks.current.record = None
        response = super().RegisterResource(request)
        record = self.mocks.current.record
        if record is not None:
            record.update(urn=response.urn, parent=request.parent or None, dependencies=sorted(request.dependencies))
            lifecycle = requested_lifecycle(request)
            if lifecycle:
                record["options"] = lifecycle
            self.mocks.options[response.urn] = {
                "provider": request.provider,
                "protect": request.protect,
                "retainOnDelete": request.retainOnDelete,
                "deleteBeforeReplace": request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
                "replaceOnChanges": list(request.replaceOnChanges),
                "ignoreChanges": list(request.ignoreChanges),
            }
        return response

    def RegisterResourceOutputs(self, request):  # the gRPC method's name
        self.mocks.outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def requested_lifecycle(request: Any) -> dict[str, Any]:
    """The options of a ``RegisterResourceRequest`` that decide how Pulumi deletes and replaces the resource, those
    that are set: ``protect`` and ``retainOnDelete`` when true, ``deleteBeforeReplace`` when the program gave it,
    ``replaceOnChanges`` when not empty."""
    out: dict[str, Any] = {}
    if request.protect:
        out["protect"] = True
    if request.retainOnDelete:
        out["retainOnDelete"] = True
    if request.deleteBeforeReplaceDefined:
        out["deleteBeforeReplace"] = request.deleteBeforeReplace
    if request.replaceOnChanges:
        out["replaceOnChanges"] = sorted(request.replaceOnChanges)
    return out


def run_under_mocks(
    body: Callable[[], Any],
    mocks: RecordingMocks,
    project: str = "endpoint-firewall",
    stack: str = "test",
    preview: bool = False,
) -> RecordingMocks:
    """Run ``body`` as a Pulumi program under ``mocks``, on a fresh event loop of its own (the mocks bind to the
    current loop; each run gets its own, closed after it); ``body`` may return an Output, awaited before returning.
    ``preview``: as ``pulumi preview`` runs it, where an output the mocks do not answer is unknown (recorded as
    :data:`UNKNOWN` where another resource's input)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=RecordingMonitor(mocks))
        pulumi.runtime.test(body)()
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return mocks


def _plain(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _stack_config_dir(project: Path) -> Path:
    """``config/stack_dir.py``'s lookup, loaded by path (this file imports nothing from the package)."""
    path = Path(__file__).resolve().parent.parent / "config" / "stack_dir.py"
    spec = importlib.util.spec_from_file_location("_epfw_stack_dir", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.stack_config_dir(project)


def stack_config(project: Path, stack: str) -> dict[str, str]:
    """The stack file's ``config:`` as the runtime holds it: strings, structured values as JSON."""
    path = _stack_config_dir(project) / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = data.get("config") or {}
    return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in config.items()}


def project_name(project: Path) -> str:
    settings_file = project / "Pulumi.yaml"
    if settings_file.exists():
        return (yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}).get("name", "endpoint-firewall")
    return "endpoint-firewall"


def run_program(project: Path, stack: str, mocks: RecordingMocks | None = None) -> list[dict[str, Any]]:
    """Run ``project/__main__.py`` for ``stack`` under mocks; return the registered resources in order."""
    mocks = mocks or RecordingMocks()
    main = project / "__main__.py"
    pulumi.runtime.set_all_config(stack_config(project, stack))

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    run_under_mocks(program, mocks, project_name(project), stack)
    return mocks.resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    resources = run_program(args.project.resolve(), args.stack)
    args.out.write_text(json.dumps(resources, indent=1, sort_keys=True, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
