"""Plan -> AWS Network Firewall: stateful rule groups (``CreateRuleGroup`` requests with their Suricata rules) and,
when ``aws.dns`` is on, Route 53 Resolver DNS Firewall. Pure functions, no Pulumi.

The modules import one way, each only from those below it (pyproject.toml's import-linter contract):

* ``render``: :func:`~.render.render_aws` and :class:`~.render.AwsRender` (files, summary, residual risks, the
  checks of a whole render: rule order, default actions, AWS's own rules);
* ``groups``, ``compat``, ``dns``: the request bodies of the groups; AWS's rules for a group's text; the DNS
  Firewall's lists and rules;
* ``layout``: the plan laid out as Suricata rules and domain-list targets, shards, roles, priorities and sids;
* ``capacity``, ``deny``: what a group reserves, its replacement-forcing name, the policy quota; the default deny
  and what it lets through by design;
* ``suricata``: Suricata rule text (ports, name matches, AWS's domain-list generated form, sids, IP set variables);
* ``model``: the renderer's error and a rendered group.
"""
