"""The operator console: server-rendered pages under /console/ whose scripts call the REST API with the
session. Pages render what selectors return; every write goes through the API and its services."""
