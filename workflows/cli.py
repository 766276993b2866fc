"""The ``civicflow`` console script: django-admin with CivicFlow's settings."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflows.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A missing or wrong setting deserves one clear line, not a traceback.
        sys.stderr.write(f"civicflow: configuration error: {error}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
