"""The one error of the AWS renderer (its modules raise it; ``renderers.aws`` re-exports it)."""

from __future__ import annotations

from ..endpoints.errors import EpfwError


class AwsRenderError(EpfwError, ValueError):
    """The plan cannot be rendered within AWS's limits (the message says which and what to change)."""
