"""Kinds of finding: what sort of thing a cloud widened, could not express, or the plan skipped.

Every finding (the plan's :class:`~.rules.Skipped`, a renderer's ``Finding``) carries a :class:`Kind`. Reports group
by it: ``summary.json`` gives each item's ``kind`` id and, under ``findingKinds``, each id's title; ``epfw render`` and
``epfw show`` print one line per kind (its count, a few examples), and ``epfw show DIR --details`` every item. A new
sort of finding needs a new ``Kind`` beside the code that makes it, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Kind:
    """``id``: stable, lower-case words joined by ``-`` (what reports key on); ``title``: one short line a person
    reads, which says what the items of this kind have in common."""

    id: str
    title: str


# The default of a finding made without a kind; tests require every shipped finding to have a real one.
UNCLASSIFIED = Kind("unclassified", "findings without a kind")

# The plan's skipped entries and destinations (planner.py).
REFERENCE_ONLY = Kind("reference-only", "reference entries: links to vendor pages, nothing to allow")
PEERS_NOT_NAMED = Kind("peer-to-peer-without-peers", "peer-to-peer entries: the stack names no peerRanges")
WILDCARD_ON_PLAIN = Kind("wildcard-on-plain-tcp-udp", "wildcards on plain TCP/UDP: no host name to match")
SHARED_TENANT_LEFT_OUT = Kind(
    "shared-tenant-wildcard-left-out", "shared-tenant wildcards left out: only the listed instances allowed"
)
# The plan's widenings (planner.py), on every cloud.
SHARED_TENANT_OPEN = Kind(
    "shared-tenant-wildcard-open", "shared-tenant wildcards allowed: open to any tenant's instance"
)
# Addresses a cloud's render leaves to their entries' names (address_rules.py: addressRules names-only), listed under
# each cloud's addressRules.leftToNames.
ADDRESS_LEFT_TO_NAMES = Kind(
    "address-left-to-names", "addresses left to their entries' names, which pass at any address"
)
