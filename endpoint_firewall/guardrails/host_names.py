"""What "every name" and "too wide a name pattern" look like: host patterns and Suricata host-name matches.

Each judge returns ``(any_problems, suffix_problems)``: the first feed ``no-allow-any``, the second
``no-public-suffix-wildcard``. A pattern that reaches past a label boundary (``*contoso.com``, a Suricata
``content:"contoso.com"; endswith`` without a leading dot, an unanchored content) also matches names under
other registrable domains (``evilcontoso.com``), that is a wildcard on the public suffix: the second list.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..endpoints.names import is_public_suffix

Problems = tuple[list[str], list[str]]


def _name_problems(value: str, where: str) -> Problems:
    """Of one host pattern (``targetFqdns``, ``targetUrls``, ``destinationFqdns``, a domain-list target).

    ``*``/``.``: every name. ``*.com``, ``.co.uk``, ``*com``: a wildcard on a public suffix. Any other ``*``
    than a whole left-most label ``*.`` (``*contoso.com``, ``api*.contoso.com``, ``*.*.contoso.com``):
    refused, it does not stop at a label boundary or is not the form every firewall reads the same way.
    """
    host = value.strip().lower().split("/", 1)[0]  # targetUrls are host/path
    if host.startswith(("*", ".")) or not host:
        base = host.lstrip("*.").rstrip(".")
        if not base:
            return [f"{where} {value!r} allows every name"], []
        if is_public_suffix(base):
            return [], [f"{where} {value!r} is a wildcard on the public suffix {base!r}"]
    if "*" in host and not (host.startswith("*.") and "*" not in host[2:]):
        rest = host.rsplit("*", 1)[1].lstrip(".")
        example = f" (it also matches {'evil' + rest!r})" if host.startswith("*") and host.count("*") == 1 else ""
        fix = f"; write it as '*.{rest}'" if rest else ""
        return [], [f"{where} {value!r} has a wildcard that is not the whole left-most label{example}{fix}"]
    return [], []


def _suricata_host_problems(hosts: Sequence[tuple[str, set[str]]], where: str) -> Problems:
    """Of the host-name matches of one pass rule (``(content, modifiers)``, from ``ParsedRule.host_matches``).

    A host content is an *anchor* when it is an exact name (``startswith; endswith``) or a suffix starting with a
    dot (``content:".x.com"; endswith``, with or without ``dotprefix``). A rule's contents must all match, so
    one anchor confines the rule; a rule with host matches and no anchor is refused (``content:"x.com";
    endswith`` also matches ``evilx.com``; ``content:"x.com"`` alone also matches ``x.com.evil.example``).
    """
    any_problems: list[str] = []
    suffix_problems: list[str] = []
    anchored = False
    loose: list[tuple[str, bool]] = []  # (content, anchored at the end)
    for content, mods in hosts:
        starts, ends, dot = "startswith" in mods, "endswith" in mods, "dotprefix" in mods
        if starts and ends and not dot:
            anchored = True
            continue
        base = content.lower().strip().lstrip("*").strip(".")
        if not base:
            any_problems.append(f"{where}: host match {content!r} matches every name")
            continue
        if is_public_suffix(base):
            suffix_problems.append(f"{where}: host match {content!r} is a suffix match on the public suffix {base!r}")
            continue
        if content.lstrip().startswith("!"):
            continue  # a negated content only narrows the rule
        if ends and (starts or content.strip().startswith(".")):
            anchored = True  # dotprefix exact name, or a dotted suffix
            continue
        loose.append((content, ends))
    if anchored:
        return any_problems, suffix_problems
    for content, ends in loose:
        name = content.strip().lower()
        fix = (
            f'match the exact name (content:"{name.lstrip("*.")}"; startswith; endswith) or a suffix '
            f'starting with a dot (content:".{name.lstrip("*.")}"; endswith)'
        )
        if "*" in name:
            why = "'*' is a literal character in Suricata, not a wildcard"
        elif ends:
            why = f"a suffix match without a leading dot also matches {'evil' + name!r}"
        else:
            why = f"it is not anchored at the end of the name and also matches {name.rstrip('.') + '.evil.example'!r}"
        suffix_problems.append(f"{where}: host match {content!r}: {why}; {fix}")
    return any_problems, suffix_problems
