"""Trivy engine: parses trivy's JSON report (vulnerabilities, misconfigurations, secrets, licences)."""
