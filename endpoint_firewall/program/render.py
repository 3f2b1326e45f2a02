"""Render a stack to files, exactly what it deploys, from the same functions the components use."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.stack_config import StackConfig, load_stack_file, stack_file
from ..endpoints.errors import EpfwError
from ..planning.address_rules import ByName
from ..planning.rules import Plan, Skipped
from ..planning.sources import SharedDestination, several_sources
from ..renderers.findings import Finding, kind_titles
from .allow_any import POLICY_CONFIG_FILE, allow_any_exceptions, policy_config_text
from .stack_plan import load_selected

if TYPE_CHECKING:  # imported when rendering, not with this module
    from ..renderers.aws.render import AwsRender
    from ..renderers.azure.render import AzureRender


CLOUDS = ("azure", "aws")


@dataclass(frozen=True)
class StackRender:
    stack: str
    plan: Plan
    azure: AzureRender | None
    aws: AwsRender | None
    exceptions: dict[str, str] = field(default_factory=dict)  # allow_any exceptions, see program/allow_any.py
    clouds: tuple[str, ...] = CLOUDS  # what was asked for (``--cloud``): a cloud left out is not rendered
    shared: tuple[SharedDestination, ...] = ()  # targets that entries of more than one source ask for

    def summary(self) -> dict:
        summary = {
            "stack": self.stack,
            "clouds": [c for c in CLOUDS if c in self.clouds and getattr(self, c) is not None],
            "catalogueDigest": self.plan.digest,
            "entries": len(self.plan.selected_entries),
            "sourceRanges": list(self.plan.source_ranges),
            "skipped": [
                {"entry": s.entry, "destination": s.destination, "reason": s.reason, "kind": s.kind.id}
                for s in self.plan.skipped
            ],
            "azure": self.azure.summary() if self.azure else None,
            "aws": self.aws.summary() if self.aws else None,
            "allowAnyExceptions": self.exceptions,
            "findingKinds": kind_titles(self.findings()),
        }
        if self.shared:  # only then: a stack whose targets each come from one source renders as before
            summary["severalSources"] = [s.to_json() for s in self.shared]
        return summary

    def findings(self) -> list[Finding | Skipped | ByName]:
        """Every finding of the render: the plan's skipped, and each cloud's widened, not expressible and addresses
        left to names (``addressRules.leftToNames``)."""
        found: list[Finding | Skipped | ByName] = list(self.plan.skipped)
        for cloud in (self.azure, self.aws):
            if cloud:
                found += [*cloud.widened, *cloud.not_expressible, *cloud.by_name]
        return found

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for cloud in (self.azure, self.aws):
            if cloud:
                out.update(cloud.files())
        out["summary.json"] = json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n"
        if (
            self.exceptions
        ):  # for `pulumi preview --policy-pack policy --policy-pack-config <render>/policy-config.json`
            out[POLICY_CONFIG_FILE] = policy_config_text(self.exceptions)
        return out


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` with a Pulumi.yaml (else ``start``)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").exists():
            return folder
    return here


class CloudNotConfigured(EpfwError, ValueError):
    """``--cloud X`` for a stack without an enabled ``X`` configuration."""


def require_cloud(stack: str, config: StackConfig, cloud: str | None) -> None:
    """Refuse ``--cloud`` naming a cloud the stack does not deploy (no ``cloud``: every cloud, nothing to refuse)."""
    if cloud and not config.enabled_cloud(cloud):
        raise CloudNotConfigured(f"stack {stack} has no enabled {cloud} configuration (endpoint-firewall:{cloud})")


def render_config(
    stack: str,
    config: StackConfig,
    project_dir: Path,
    catalogue_files: list[Path] | None = None,
    cloud: str | None = None,
) -> StackRender:
    """Plan and render ``config``; with ``catalogue_files``, every entry of those files is selected (the stack's
    shared-tenant settings still apply); with ``cloud`` (``azure`` or ``aws``), that cloud only."""
    clouds = (cloud,) if cloud else CLOUDS
    require_cloud(stack, config, cloud)
    catalogue, plan = load_selected(config, project_dir, str(stack_file(project_dir, stack)), catalogue_files)
    azure_config, aws_config = config.enabled_cloud("azure"), config.enabled_cloud("aws")
    azure = aws = None
    if "azure" in clouds and azure_config:
        from ..renderers.azure.render import render_azure

        azure = render_azure(plan, azure_config)
    if "aws" in clouds and aws_config:
        from ..renderers.aws.render import render_aws

        aws = render_aws(plan, aws_config)
    return StackRender(
        stack=stack,
        plan=plan,
        azure=azure,
        aws=aws,
        exceptions=allow_any_exceptions(catalogue, plan),
        clouds=clouds,
        shared=several_sources(plan, catalogue),
    )


def render_stack(
    stack: str, project_dir: Path, catalogue_files: list[Path] | None = None, cloud: str | None = None
) -> StackRender:
    config = load_stack_file(stack_file(project_dir, stack))
    return render_config(stack, config, project_dir, catalogue_files, cloud)


RENDER_MARKER = ".epfw-render"  # written into every render folder: only such a folder (or an empty one) is replaced
_MARKER_TEXT = "Written by epfw render. The next render into this folder replaces it as a whole.\n"


class OutFolderError(EpfwError, ValueError):
    """``--out`` names something a render must not replace (the message says what is in the way)."""


# What a render wrote before it carried the marker (epfw 0.1.0 before the marker): only these names, and a
# summary.json that is a render's. Such a folder (an older `make demo`'s build/dev) is replaced like a marked one.
_UNMARKED_RENDER_NAMES = frozenset({"azure", "aws", "summary.json"})


def _is_unmarked_render(folder: Path, names: list[str]) -> bool:
    if "summary.json" not in names or not set(names) <= _UNMARKED_RENDER_NAMES:
        return False
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(summary, dict) and {"stack", "catalogueDigest"} <= summary.keys()


def _is_same_or_parent(folder: Path, of: Path) -> bool:
    return folder == of or folder in of.parents


def refuse_unsafe_out(out: Path, protected: tuple[Path, ...] = ()) -> None:
    """Refuse an ``out`` that replacing would lose something: only an empty folder, a folder an earlier render
    wrote (it holds :data:`RENDER_MARKER`, or is an unmarked render of an older epfw) or a path that does not exist yet may be written. Never a project
    root (a folder with ``Pulumi.yaml`` or ``.git``), nor the working folder, ``protected`` or a parent of them."""
    out = out.resolve()
    for folder in (Path.cwd().resolve(), *(p.resolve() for p in protected)):
        if _is_same_or_parent(out, folder):
            what = "the working folder" if folder == Path.cwd().resolve() else f"the project folder {folder}"
            raise OutFolderError(
                f"--out {out} is {what} or one of its parents; a render replaces its folder "
                "as a whole: name a folder of its own, such as build/dev"
            )
    if not out.exists():
        return
    if not out.is_dir():
        raise OutFolderError(f"--out {out} is a file, not a folder; name a folder for the render")
    for mark in ("Pulumi.yaml", ".git"):
        if (out / mark).exists():
            raise OutFolderError(f"--out {out} holds {mark}: it is a project, not a render folder")
    names = sorted(p.name for p in out.iterdir())
    if names and RENDER_MARKER not in names and not _is_unmarked_render(out, names):
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        raise OutFolderError(
            f"--out {out} is not a folder epfw render wrote (it holds {shown}); a render "
            "replaces its folder as a whole: empty it or name another folder"
        )


def _normal_mode() -> int:
    """The mode ``mkdir`` gives a new folder under the process's umask (mkdtemp's are 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def write_atomically(files: dict[str, str], out: Path, protected: tuple[Path, ...] = ()) -> None:
    """Write every file (and :data:`RENDER_MARKER`) into a fresh folder beside ``out``, then swap it in: all or
    nothing. ``out`` is checked first with :func:`refuse_unsafe_out`."""
    refuse_unsafe_out(out, protected)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(_normal_mode())
        for rel, text in sorted({**files, RENDER_MARKER: _MARKER_TEXT}.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.rename(out, old / "x")
            os.rename(staging, out)
            shutil.rmtree(old)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
