"""The test settings with the seed surfaces routed (tests/conformance/urls.py), for the worker and daphne
of test_stack_surfaces.py while config/urls.py does not include scans.surfaces.urls yet."""

from config.settings.test import *  # noqa: F401,F403

ROOT_URLCONF = "tests.conformance.urls"
