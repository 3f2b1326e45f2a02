"""The stack configuration models: the namespace and the stack file loader (``stack_config``), each cloud's settings
(``azure_config``, ``aws_config``, ``dns_config``) and what Azure's tiers can take (``azure_sku``). The renderers and
components take their settings from here."""
