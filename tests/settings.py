"""Test settings: development mode, then the real settings module unchanged."""

import os

os.environ.setdefault("CIVICFLOW_ENV", "development")

from workflows.settings import *  # noqa: F403
