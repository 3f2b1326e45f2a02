"""Preview tooling beside the Pulumi program: mock runs (``mock_runner``), rule-level diffs (``resource_diff``) and
the program at another git ref (``git_tree``), for ``epfw preview`` and ``epfw diff``."""
