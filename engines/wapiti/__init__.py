"""Wapiti engine: parses Wapiti's JSON report."""
