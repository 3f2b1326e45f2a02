"""endpoint-firewall: catalogue -> plan -> Azure/AWS renderers -> Pulumi components."""
