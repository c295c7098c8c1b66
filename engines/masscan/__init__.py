"""masscan engine: parses its -oJ, -oL, -oG and -oX output into hosts and services."""
