"""Plan -> Azure Firewall: rule collection groups (or classic rule collections) and IP Groups as ARM resource bodies,
one ARM deployment template of them and, when ``azure.dns`` is on, a DNS security policy. Pure functions, no Pulumi.

The modules import one way, each only from those below it (pyproject.toml's import-linter contract):

* ``render``: :func:`~.render.render_azure` and :class:`~.render.AzureRender` (files, summary, limits used,
  residual risks, the checks of a whole render: priorities, names, the groups per policy);
* ``layout``, ``template``, ``dns``: IP Groups, rule bodies and groups sharded by size; the ARM template of the
  bodies; the DNS security policy;
* ``rules``: the plan mapped onto network and application rules (what each tier and option can express);
* ``model``: names, the IP Group id placeholder, the renderer's error, a group and an IP Group.
"""
