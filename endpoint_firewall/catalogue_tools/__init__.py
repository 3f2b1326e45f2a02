"""Catalogue tooling: what writes and compares catalogue files, above the catalogue itself (``endpoints``).

* :mod:`.importers`: a vendor's published endpoint list into a catalogue file (``epfw import``).
* :mod:`.dump`: a catalogue file to YAML, written only once it loads (``epfw import``).
* :mod:`.diff`: what changed between two catalogues (``epfw catalogue diff``).

Only the command line (``cli``) and the tests use this layer; it uses only ``endpoints`` (the models, the loader,
names), which never imports it back (pyproject.toml, ``[tool.importlinter]``).
"""
