"""The REST API under /api/v1/: programs, submissions and tasks (docs/api/reference.md)."""
