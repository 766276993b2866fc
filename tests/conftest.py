"""Shared fixtures: the shipped library-card program, and people with roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from workflows import programs, services
from workflows.models import Program, RoleGrant

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "definitions"


@pytest.fixture
def library_card(db: None) -> Program:
    """The walking-skeleton program, published exactly as shipped in definitions/."""
    folder = DEFINITIONS / "library-card"
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


LIBRARY_AGENCY = "city-library"
"""The agency of the shipped library-card program."""


def make_user(username: str, *roles: str, agency: str = LIBRARY_AGENCY, queue: str = "") -> User:
    """A user holding ``roles`` for ``agency`` (``*``: every agency) and ``queue`` (blank: every queue)."""
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    for role in roles:
        RoleGrant.objects.create(user=user, role=role, agency=agency, queue=queue)
    return user


@pytest.fixture
def librarian(db: None) -> User:
    return make_user("lena", "librarian")


@pytest.fixture
def other_librarian(db: None) -> User:
    return make_user("omar", "librarian")


@pytest.fixture
def auditor(db: None) -> User:
    return make_user("audrey", "auditor")
