"""Importers: turn a vendor's published endpoint list into a catalogue file.

Each importer reads one vendor format, refuses malformed input with located problems (``FILE:LINE: field:
message``, or ``FILE: [index].key: message`` for a machine-generated JSON list), reports by name everything the
catalogue cannot express exactly (and leaves it out rather than widen it), and returns a
:class:`~endpoint_firewall.endpoints.models.CatalogueFile` that
:func:`~endpoint_firewall.catalogue_tools.dump.write_catalogue` writes only once it loads.

* :mod:`.m365`: the Microsoft 365 IP address and URL web service (``epfw import m365``).
* :mod:`.intune_page`: Microsoft's "Network endpoints for Microsoft Intune" page (``epfw import intune-page``).
* :mod:`.autopilot_page`: the Networking tab of "Windows Autopilot requirements" (``epfw import autopilot-page``).

The two pages are Microsoft Learn Markdown: :mod:`.markdown_page` reads a page into sections of blocks,
:mod:`.learn_page` holds what their importers share (reports, the result, the front matter, links, fix-ups) and
:mod:`.page_fixups` the reviewed corrections to a page.
"""
