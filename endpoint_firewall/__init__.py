"""endpoint-firewall: catalogue -> plan -> Azure/AWS renderers -> Pulumi components."""

from importlib import metadata

DISTRIBUTION = "endpoint-firewall"


def package_version(default: str = "0.0.0") -> str:
    """The version of the installed package, the one source of truth being ``pyproject.toml``'s ``[project]
    version``: ``epfw --version`` and the component schema (``pulumi package add``) both say it. ``default`` when
    the package is run from a source tree that is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return default
