"""What the components tell Pulumi about deleting and replacing their children, and the tags they put on them.

``onDelete`` (``config.base.OnDelete``) becomes resource options: ``retain`` is ``retain_on_delete=True``
(Pulumi forgets the resource and leaves it in the cloud), ``protect`` is ``protect=True`` (preview and up refuse to
delete or replace it, naming it), ``delete`` sets neither, so that a consumer's own ``protect`` on the component
still reaches the child through its parent. Why each default is what it is: docs/deploying.md, "Replacements and deletes".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import pulumi

from ..config.base import OnDelete

Tags = Mapping[str, pulumi.Input[str]] | pulumi.Input[Mapping[str, str]]


class Lifecycle(TypedDict, total=False):
    """The ``ResourceOptions`` keyword arguments :func:`lifecycle_options` gives."""

    protect: bool
    retain_on_delete: bool


def lifecycle_options(on_delete: OnDelete) -> Lifecycle:
    """``ResourceOptions`` keyword arguments for ``on_delete`` (nothing for ``delete``: inherited from the parent)."""
    if on_delete is OnDelete.RETAIN:
        return {"retain_on_delete": True}
    if on_delete is OnDelete.PROTECT:
        return {"protect": True}
    return {}


def merged_tags(*layers: Tags | None) -> Any:
    """The tags of every layer, later ones winning; None when there are none, so that a resource is registered
    without ``tags`` as before. Any layer may be an Output."""
    given = [layer for layer in layers if layer is not None]
    if any(isinstance(layer, pulumi.Output) for layer in given):
        return pulumi.Output.all(*given).apply(lambda resolved: _merge(resolved) or None)
    return _merge(given) or None


def _merge(layers: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        out.update(layer or {})
    return out
