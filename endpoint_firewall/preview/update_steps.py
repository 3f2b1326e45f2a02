"""The steps ``pulumi up`` takes from one program run to the next, as Pulumi documents them, from recorded runs.

Both sides are resource records as ``epfw preview`` records them under mocks (``type``, ``name``, ``inputs``,
``dependencies`` and the lifecycle ``options``); which change replaces a resource rather than updating it is
:mod:`.resource_diff`'s (the provider's replace-on properties). This is a model of the engine's order, not the
engine (the Pulumi CLI cannot run here); it follows Pulumi's documentation of the resource options:

- a resource is created, updated or replaced as the program registers it, so after everything it depends on;
- a replacement creates the new resource first and deletes the old one at the end, "to minimize downtime", unless
  ``deleteBeforeReplace`` (pulumi.com/docs/iac/concepts/options/deletebeforereplace/);
- resources that left the program, and the old halves of replacements, are deleted at the end, dependents first;
- ``retainOnDelete``: "Pulumi will not call through to the resource provider's Delete method when deleting or
  replacing the resource ... removed from the Pulumi state" (pulumi.com/docs/iac/concepts/options/retainondelete/):
  the step is a release, and the resource stays in the cloud;
- ``protect``: a replacement or delete of a protected resource fails, in preview already ("Preview failed: refusing
  to delete protected resource", pulumi.com/docs/iac/concepts/options/protect/): the step is a refusal.

The options that decide a delete are the ones the *old* state carries (the last deployment's), so they are read
from the old records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .resource_diff import Change, diff, stem

CREATE, UPDATE, REPLACE_FIRST, DELETE, RELEASE, REFUSE = (
    "create",
    "update",
    "create replacement",
    "delete",
    "release",
    "refuse",
)


@dataclass(frozen=True)
class Step:
    op: str  # one of the names above
    type: str
    name: str  # the logical name (the old one for a delete, release or refusal)
    why: str = ""

    def to_json(self) -> dict[str, str]:
        return {"op": self.op, "type": self.type, "name": self.name, "why": self.why}


def _key(record: dict) -> tuple[str, str]:
    return record["type"], record["name"]


def _end_step(record: dict, replaced: bool) -> Step:
    """What happens to an old resource at the end of the update: deleted, released or refused."""
    options = record.get("options") or {}
    what = "the old half of a replacement" if replaced else "no longer in the program"
    if options.get("protect"):
        return Step(REFUSE, record["type"], record["name"], f"{what}, and protected: preview and up fail")
    if options.get("retainOnDelete"):
        return Step(RELEASE, record["type"], record["name"], f"{what}; retainOnDelete: it stays in the cloud")
    return Step(DELETE, record["type"], record["name"], what)


def update_steps(old: Iterable[dict], new: Iterable[dict]) -> list[Step]:
    """The steps of an update from ``old`` to ``new``, in the order Pulumi takes them (see the module docstring)."""
    old, new = [r for r in old if r.get("custom", True)], [r for r in new if r.get("custom", True)]
    old_by = {_key(r): r for r in old}
    changes: dict[tuple[str, str], Change] = {}
    for change in diff(old, new):
        for name in change.name.split(" -> "):
            changes[(change.type, name)] = change
    steps: list[Step] = []
    ending: list[tuple[dict, bool]] = []  # (old record, replaced) deleted at the end
    for record in new:
        if _key(record) not in changes:
            continue
        change = changes[_key(record)]
        if change.status == "added":
            steps.append(Step(CREATE, record["type"], record["name"]))
        elif change.status == "updated":
            steps.append(Step(UPDATE, record["type"], record["name"]))
        elif change.status == "replaced":
            before = _old_of(record, change.name, old_by)
            why = ", ".join(change.replace_reasons) + " changed"
            if (before.get("options") or {}).get("protect"):
                steps.append(
                    Step(REFUSE, record["type"], before["name"], f"replacement ({why}) of a protected resource")
                )
            elif (record.get("options") or {}).get("deleteBeforeReplace"):
                steps.append(_end_step(before, replaced=True))
                steps.append(Step(CREATE, record["type"], record["name"], f"after deleting the old one ({why})"))
            else:
                steps.append(Step(REPLACE_FIRST, record["type"], record["name"], why))
                ending.append((before, True))
    for removed in changes.values():
        if removed.status == "removed":
            ending.append((old_by[(removed.type, removed.name)], False))
    order = {_key(r): i for i, r in enumerate(old)}
    ending.sort(key=lambda item: -order[_key(item[0])])  # dependents (registered later) first
    seen: set[tuple[str, str]] = set()
    for record, replaced in ending:
        if _key(record) not in seen:
            seen.add(_key(record))
            steps.append(_end_step(record, replaced))
    return steps


def _old_of(record: dict, change_name: str, old_by: dict[tuple[str, str], dict]) -> dict:
    """The old record a replaced ``record`` pairs with (the same logical name, or the same stem)."""
    if _key(record) in old_by:
        return old_by[_key(record)]
    old_name = change_name.split(" -> ")[0]
    assert stem(old_name) == stem(record["name"])
    return old_by[(record["type"], old_name)]
