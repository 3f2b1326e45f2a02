"""What the Intune page says in sentences: peer-to-peer ports, and host names in no table or list.

* Peer-to-peer ports ("uses 7680 for TCP/IP", "Teredo on port 3544"): ``peer-to-peer`` drafts of the section.
* A backticked or quoted value in a section's prose that no table or list holds (:func:`read_prose_values`): a
  draft ``intune-<area>-prose`` on the section's ports, reported.
* A host written plainly in a sentence (:func:`read_prose_hosts`): reported, unless a reviewed fix-up imports it
  (``add: AREA``: draft ``intune-<area>-prose``) or records why it is left out (``drop: true``).

Both read once every table and list is in (the values they hold are known); a prose draft that an earlier reader
made is added to (:attr:`.drafts.Read.updated`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError

from ....endpoints import names
from ....endpoints.located import first_message
from ....endpoints.models import Destination, EntryKind, Protocol, Service
from ..learn_page import LINK, PageContext, Report, sentence
from ..markdown_page import BulletList, Paragraph, Section
from .drafts import Draft, Read, draft_id, in_link, new_draft, protocol, read_value
from .lists import section_ports
from .sections import AREAS

_P2P_TCP = re.compile(r"uses (\d+) for TCP/IP")
_P2P_TEREDO = re.compile(r"Teredo on port (\d+)")
_PROSE_VALUE = re.compile(r"'\\?([*a-z0-9][^'\s]*\.[a-z]{2,})'|`([*a-z0-9][^`\s]*\.[a-z]{2,})`", re.I)
_PROSE_HOST = re.compile(r"(?<![\w.@/*\\-])((?:\\?\*\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)(?![\w-])", re.I)


def read_peer_to_peer(section: Section, area: str) -> Read:
    """Ports peers use, stated in the section's paragraphs."""
    read = Read()
    for block in section.blocks:
        if not isinstance(block, Paragraph):
            continue
        for pattern, transport, what in ((_P2P_TCP, Protocol.TCP, "peers"), (_P2P_TEREDO, Protocol.UDP, "teredo")):
            match = pattern.search(block.text)
            if not match:
                continue
            draft = new_draft(
                draft_id(area, what),
                area,
                sentence(block.text, match.start()),
                section,
                block.line,
                note="the section's prose",
            )
            draft.kind, draft.required = EntryKind.PEER_TO_PEER, False
            draft.services = [Service(protocol=transport, port=int(match.group(1)))]
            if transport is Protocol.UDP:
                draft.notes.append(
                    "Teredo runs over UDP (RFC 4380); the page names no transport. UDP is "
                    "imported; Microsoft's Delivery Optimization FAQ says TCP."
                )
            read.drafts.append(draft)
    return read


def read_prose_values(section: Section, area: str | None, context: PageContext, drafts: Mapping[str, Draft]) -> Read:
    """Backticked or quoted values of the section's paragraphs that no draft holds; ``area`` None: a section that
    lists no endpoints (reported, not imported)."""
    read, mine = Read(), _ProseDrafts(drafts)
    known = {v for d in drafts.values() for v in d.values}
    for block in section.blocks:
        if not isinstance(block, Paragraph):
            continue
        for match in _PROSE_VALUE.finditer(block.text):
            raw = match.group(1) or match.group(2)
            if not names.has_known_tld(raw) or in_link(block.text, match.start()):
                continue  # a service tag such as AzureFrontDoor.MicrosoftSecurity, or a link's text
            line = block.line_at(match.start())
            value = read_value(raw, line, section.anchor, context, read.reports)
            if value is None or value in known:
                continue
            if area is None:
                read.reports.append(
                    Report(
                        line,
                        f"{value} is named in the prose of #{section.anchor}, which lists no endpoints; not imported",
                    )
                )
                continue
            draft = mine.find(draft_id(area, "prose")) or mine.add(
                new_draft(
                    draft_id(area, "prose"),
                    area,
                    f"{section.title}: named in its prose",
                    section,
                    line,
                    note="named in the section's prose, in no table or list",
                )
            )
            draft.add(value, line, read.reports)
            draft.services = list(section_ports(section, line, read.reports))
            draft.notes.append(sentence(block.text, match.start()))
            known.add(value)
            read.reports.append(
                Report(line, f"{value} is named only in the prose of #{section.anchor}; imported as {draft.id}")
            )
    mine.into(read)
    return read


def read_prose_hosts(section: Section, context: PageContext, drafts: Mapping[str, Draft]) -> Read:
    """Host names written in a sentence (no backticks or quotes, not a link): reported unless the catalogue holds
    them; a reviewed fix-up imports one (``add: AREA``) or records why not (``drop: true``)."""
    read, mine = Read(), _ProseDrafts(drafts)
    known = {v for d in drafts.values() for v in d.values}
    texts = [b for b in section.blocks if isinstance(b, Paragraph)]
    texts += [Paragraph(i.line, i.text) for b in section.blocks if isinstance(b, BulletList) for i in b.items]
    for block in texts:
        text, line_at = block.text, block.line_at
        blank = LINK.sub(lambda m: " " * len(m.group(0)), text)
        blank = re.sub(r"`[^`]*`|'[^'\s]*'", lambda m: " " * len(m.group(0)), blank)
        for match in _PROSE_HOST.finditer(blank):
            raw = match.group(1).replace("\\*", "*")
            if not names.has_known_tld(raw):
                continue  # a file name such as Test-IntuneAFDConnectivity.ps1
            line = line_at(match.start())
            try:
                value: str | None = Destination.model_validate(raw).value
            except ValidationError as err:
                value, refused = None, first_message(err)
            if value in known:
                continue
            where = f"{raw} is named in the prose of #{section.anchor}, in no table or list"
            index = context.fixups.find(raw, section.anchor, prose=True)
            if index is None:
                why = f" (the catalogue cannot hold it: {refused})" if value is None else ""
                read.reports.append(
                    Report(
                        line,
                        f"{where}{why}; not imported: decide with a fix-up (add: AREA "
                        f"or drop: true) in {context.fixups.file}",
                    )
                )
                continue
            fix, at = context.fixups.items[index], f"{context.fixups.file}:{context.fixups.lines[index]}"
            if fix.add is None or value is None:
                read.reports.append(Report(line, f"{where}; not imported, by the fix-up at {at} ({fix.reason})", index))
                continue
            if fix.add not in AREAS:
                raise context.fail(
                    line,
                    f"the fix-up at {at} adds {raw} to {fix.add!r}, which is no service area of "
                    f"the page import ({', '.join(AREAS)})",
                )
            entry_id = draft_id(fix.add, "prose")
            draft = mine.find(entry_id) or mine.add(
                new_draft(
                    entry_id,
                    fix.add,
                    f"{section.title}: hosts named in the page's prose",
                    section,
                    line,
                    note="named in the page's prose, in no table or list; added by a reviewed fix-up",
                )
            )
            draft.add(value, line, read.reports)
            draft.services += [
                s
                for s in (Service(protocol=protocol("TCP", str(p)), port=p) for p in fix.ports)
                if s not in draft.services
            ]
            draft.notes.append(
                f"{value}: {sentence(text, match.start()).replace(chr(92) + '*', '*')} Fix-up: {fix.reason}"
            )
            known.add(value)
            read.reports.append(
                Report(
                    line,
                    f"{where}; imported as {entry_id} on "
                    f"{', '.join(map(str, draft.services))} by the fix-up at {at} "
                    f"({fix.reason})",
                    index,
                )
            )
    mine.into(read)
    return read


class _ProseDrafts:
    """The prose drafts one reader adds to: its own, or copies of those an earlier reader made."""

    def __init__(self, earlier: Mapping[str, Draft]):
        self.earlier = earlier
        self.mine: dict[str, Draft] = {}

    def find(self, entry_id: str) -> Draft | None:
        """The draft of that id to add to, if this reader or an earlier one made it."""
        if entry_id not in self.mine and entry_id in self.earlier:
            self.mine[entry_id] = self.earlier[entry_id].copy()
        return self.mine.get(entry_id)

    def add(self, draft: Draft) -> Draft:
        self.mine[draft.id] = draft
        return draft

    def into(self, read: Read) -> None:
        for entry_id, draft in self.mine.items():
            (read.updated if entry_id in self.earlier else read.drafts).append(draft)
