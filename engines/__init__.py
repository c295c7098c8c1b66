"""Scanner engines: option schemas, command builders, runners and parsers.

This package imports nothing from the Django apps; the apps import it.
"""
