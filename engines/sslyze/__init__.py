"""sslyze: TLS configuration scanner (JSON output parser)."""
