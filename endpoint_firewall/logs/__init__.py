"""``epfw logs explain``: what the firewall denied, read from its own logs and explained against the catalogue.

Pure: the command line (``cli/cmd_logs.py``) opens the files and renders the stack; this package takes lines and
returns the report. One layer above ``checks`` (it asks :mod:`..checks.listed` what the catalogue lists and
:mod:`..checks.azure` what Azure's documented order decides), beside ``program`` and ``preview``.

* :mod:`.records`: one log record as both clouds' readers give it;
* :mod:`.json_stream`: the items of a JSON document's array, read piece by piece (bounded memory);
* :mod:`.aws_records`, :mod:`.azure_records`: the clouds' log formats, each field from the vendor's documentation;
* :mod:`.reader`: which format a file is in, and the bad lines, counted with file and line;
* :mod:`.tally`: records aggregated per denied destination and per rule that allowed (never a list of records);
* :mod:`.verdicts`: one verdict per denied destination; :mod:`.vendors`: catalogue candidates;
* :mod:`.report`: the JSON contract of the command.
"""
