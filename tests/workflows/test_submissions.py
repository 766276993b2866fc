"""Submissions are kept as accepted; an idempotency key makes a retry return the first case."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from tests.conftest import DEFINITIONS
from workflows import services
from workflows.models import Case, Program, Submission

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())


def submit(program: Program, key: str | None = None, **changes: object) -> Case:
    data = {**ANSWERS, **changes}
    return services.case_submit(program=program, data=data, user=AnonymousUser(), idempotency_key=key)


@pytest.mark.django_db
def test_the_submission_is_kept_beside_its_case(library_card):
    case = submit(library_card)
    submission = Submission.objects.get()
    assert submission.case == case
    assert submission.data == case.data
    assert (submission.channel, submission.idempotency_key) == ("online", None)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_returns_the_first_case(library_card):
    first = submit(library_card, key="partner-7f3a")
    again = submit(library_card, key="partner-7f3a")
    assert again == first
    assert Case.objects.count() == 1
    other = submit(library_card, key="partner-8b21")
    assert other != first
    assert submit(library_card) != submit(library_card)  # no key: every submission is new


@pytest.mark.django_db
def test_a_key_reused_for_different_answers_is_a_conflict(library_card):
    submit(library_card, key="partner-7f3a")
    with pytest.raises(services.Conflict, match="already used for different answers"):
        submit(library_card, key="partner-7f3a", full_name="Someone Else")
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_sixteen_submissions_racing_with_one_key_make_one_case(library_card):
    def send(_: int) -> str:
        try:
            return submit(library_card, key="retry-storm").reference
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        references = list(pool.map(send, range(16)))
    assert Case.objects.count() == 1
    assert Submission.objects.count() == 1
    assert set(references) == {Case.objects.get().reference}
