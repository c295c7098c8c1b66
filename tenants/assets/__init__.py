"""Asset Management: what a tenant owns, proven by DNS, HTTP or an operator; tenants/scope.py reads it."""
