"""The report of ``epfw logs explain``: its JSON contract, and the counts the table and Markdown lead with.

``{"stack", "cloud", "records", "denied": [{"destination", "port", "protocol", "count", "first", "last", "sources",
"verdict", "entries", "why"}], "unused_rules": [{"rule", "entries"}]}``. ``records``: the records read in the period
(``--since``); ``unused_rules``: the rendered rules no allowed record (Azure) or flow (AWS, address rules only)
went through in the period, empty when the logs hold none of those records (then nothing can be said).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .tally import Tally
from .verdicts import SELECTED, VERDICTS, Explained, Stack, explain_all


@dataclass(frozen=True)
class Report:
    stack: str
    cloud: str
    records: int
    denied: tuple[Explained, ...]
    unused_rules: tuple[tuple[str, tuple[str, ...]], ...]
    rules_judged: bool  # the logs hold records that show rules in use (allowed records, or AWS flows)

    @property
    def any_selected(self) -> bool:
        return any(d.verdict == SELECTED for d in self.denied)

    def counts(self) -> dict[str, int]:
        """Denied destinations per verdict, every verdict named."""
        found = Counter(d.verdict for d in self.denied)
        return {v: found[v] for v in VERDICTS}

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "cloud": self.cloud,
            "records": self.records,
            "denied": [d.to_json() for d in self.denied],
            "unused_rules": [{"rule": rule, "entries": list(entries)} for rule, entries in self.unused_rules],
        }


def build_report(stack: Stack, tally: Tally) -> Report:
    used = stack.side.used_rules(tally)
    unused = () if used is None else tuple((path, e) for path, e in stack.side.rules() if path not in used)
    return Report(
        stack=stack.name,
        cloud=stack.side.cloud,
        records=tally.records,
        denied=tuple(explain_all(stack, tally)),
        unused_rules=unused,
        rules_judged=used is not None,
    )
