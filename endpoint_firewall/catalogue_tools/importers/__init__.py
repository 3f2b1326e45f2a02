"""Importers: turn a vendor's published endpoint list into a catalogue file.

Each importer reads one vendor format, refuses malformed input with located problems
(``FILE:LINE: field: message``), reports by name everything the catalogue cannot express exactly (and leaves
it out rather than widen it), and returns a :class:`~endpoint_firewall.endpoints.models.CatalogueFile`
that :func:`~endpoint_firewall.catalogue_tools.dump.write_catalogue` writes only once it loads.

* :mod:`.m365`: the Microsoft 365 IP address and URL web service (``epfw import m365``).
"""
