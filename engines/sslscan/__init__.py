"""sslscan: TLS configuration scanner (XML output parser)."""
