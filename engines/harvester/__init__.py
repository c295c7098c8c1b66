"""theHarvester engine: parses its JSON and XML output into subdomain, e-mail and ip assets."""
