"""Asset Management: the targets a tenant owns, proven by DNS, HTTP or an operator (tenants/scope.py uses them)."""
