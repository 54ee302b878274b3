"""The app fixtures (both databases) for the fuzz tests that need the app."""

from tests.app.conftest import *  # noqa: F401,F403
