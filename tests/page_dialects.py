"""Microsoft's Intune page in the dialect of its MicrosoftDocs/memdocs source, made from Learn's rendered copy.

The refresh workflow fetches the memdocs source; the shared copy is Learn's rendering. :func:`to_memdocs`
rewrites the one into the other (US ``ms.date``, ``<BR>`` between values and in Category, the Remote Help
rows without leading pipe or empty Notes cell, ``|----|`` separators, DocFX tab groups) so tests can require
both dialects to give the same result.
"""

from __future__ import annotations

import re


def to_memdocs(learn: str) -> str:
    """The shared (Learn) page rewritten the way memdocs writes the same content."""
    text = re.sub(
        r'^ms\.date: "(\d{4})-(\d\d)-(\d\d)T00:00:00Z"$',
        lambda m: f"ms.date: {m[2]}/{m[3]}/{m[1]}",
        learn,
        count=1,
        flags=re.M,
    )
    assert text != learn
    out: list[str] = []
    in_remote_help = tabs_open = False
    for line in text.split("\n"):
        if line.startswith("### ") or line.startswith("## "):
            if tabs_open:  # the DocFX tab group ends before the next section
                out += ["---", ""]
                tabs_open = False
            in_remote_help = line == "### Remote Help"
        if re.match(r"^- \[[^\]]+\]\(#tabpanel_\d+_[a-z-]+\)$", line):
            continue  # Learn's list of tabs: DocFX has none
        panel = re.match(r'^<a id="tabpanel_\d+_([a-z-]+)"></a>$', line)
        if panel:
            title = {"north-america": "North America", "europe": "Europe", "asia-pacific": "Asia Pacific"}[panel[1]]
            out.append(f"# [{title}](#tab/{panel[1]})")
            tabs_open = True
            continue
        if re.match(r"^\| (\d+|N/A) \|", line):
            line = line.replace("Default Required", "Default<BR>Required").replace(
                "Allow Required", "Allow<BR>Required"
            )
            line = re.sub(r"`\s+`", "`<BR>`", line)
            if in_remote_help:  # memdocs: no leading pipe, no empty trailing Notes cell
                line = line[2:]
                line = line[:-3] if line.endswith("|  |") else line
        elif line.startswith("| --- |"):
            line = line.replace(" --- ", "----")
        out.append(line)
    return "\n".join(out)
