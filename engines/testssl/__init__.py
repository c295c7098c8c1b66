"""testssl.sh: TLS configuration scanner (flat JSON output parser)."""
