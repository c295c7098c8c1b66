"""Settings of the server the browser tests start: the test settings with tests/browser/urls.py as the
root URLconf (see there why)."""

from config.settings.test import *  # noqa: F401,F403

ROOT_URLCONF = "tests.browser.urls"
LOGIN_URL = "/console/login/"
