"""The citizen's application on the server: pages, Back that saves, errors, check answers,
one case per application, save and resume, expiry, time-outs and assisted applications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.workflows.apply_steps import (
    ABOUT_YOU,
    ADDRESS,
    CARD_MAIL,
    begin,
    fill_to_check,
    page_url,
    post_page,
    proof_file,
    publish_library_card_with,
)
from workflows import services
from workflows.models import Case, Draft, Upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


def test_the_start_page_says_what_it_is_for_what_to_have_and_how_to_come_back(client, library_card):
    page = client.get(reverse("apply_start", args=["library-card"]))
    assert page.status_code == 200
    text = page.text
    assert "<h1>Library card</h1>" in text
    assert "How long it takes" in text
    assert "What you will need" in text
    assert "Other ways to apply" in text
    assert "Save and come back later" in text  # how to resume
    assert "Start now" in text


def test_a_question_page_has_a_back_button_one_heading_and_continue(client, library_card):
    draft = begin(client)
    page = client.get(page_url(draft, "about_you"))
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert '<button type="submit" name="action" value="back"' in page.text
    assert 'value="continue" class="usa-button">Continue</button>' in page.text
    assert "novalidate" in page.text
    assert "Step 1 of 3" in page.text  # the children page is skipped until asked for


def test_errors_are_listed_above_the_heading_each_naming_its_question_and_answers_are_kept(client, library_card):
    draft = begin(client)
    page = post_page(client, draft, "about_you", {"full_name": "Ana Lima", "email": "not-an-address"})
    assert page.status_code == 422
    text = page.text
    assert "<title>Error: About you" in text
    assert text.index("There is a problem") < text.index("<h1")
    assert (
        '<a class="usa-link" href="#field-date-of-birth" data-focus="field-date-of-birth">Date of birth: Answer this question.</a>'
        in text
    )
    assert "Email address: Enter an email address" in text
    assert '<span class="usa-sr-only">Error:</span> Date of birth: Answer this question.' in text
    assert 'value="Ana Lima"' in text
    assert 'value="not-an-address"' in text
    assert 'aria-describedby="field-email-hint field-email-error"' in text
    assert Case.objects.count() == 0


def test_back_saves_what_was_typed_without_checking_it(client, library_card):
    draft = begin(client)
    post_page(client, draft, "about_you", ABOUT_YOU)
    response = post_page(client, draft, "address", {"address.line1": "12 Harbor Street", "address.zip": "nope"}, "back")
    assert response.status_code == 303
    assert response["Location"] == page_url(draft, "about_you")
    draft.refresh_from_db()
    assert draft.data["address"] == {"line1": "12 Harbor Street", "zip": "nope"}
    again = client.get(page_url(draft, "address"))
    assert 'value="12 Harbor Street"' in again.text
    assert 'value="nope"' in again.text
    first = post_page(client, draft, "about_you", ABOUT_YOU, "back")
    assert first["Location"] == reverse("apply_start", args=["library-card"])


def test_a_full_application_becomes_one_case_and_a_second_submit_shows_the_first(client, library_card):
    draft = begin(client)
    fill_to_check(client, draft)
    check = client.get(reverse("apply_check", args=[draft.public_id]))
    assert check.status_code == 200
    assert "Agree and submit" in check.text
    assert "Phone number" in check.text
    assert "Not provided" in check.text
    assert "bill.pdf" in check.text
    assert '<span class="usa-sr-only"> full name</span>' in check.text

    submitted = client.post(reverse("apply_check", args=[draft.public_id]))
    assert submitted.status_code == 303
    case = Case.objects.get()
    assert submitted["Location"] == reverse("submitted", args=[case.public_id])
    assert case.data["address"]["city"] == "Springfield"
    assert "phone" not in case.data
    assert Upload.objects.get().case == case

    confirmation = client.get(submitted["Location"])
    assert case.reference in confirmation.text
    assert "What happens next" in confirmation.text
    assert "printable receipt" in confirmation.text

    again = client.post(reverse("apply_check", args=[draft.public_id]))
    assert again.status_code == 303
    assert again["Location"] == reverse("already_submitted", args=[case.public_id])
    shown = client.get(again["Location"])
    assert "already submitted" in shown.text
    assert case.reference in shown.text
    assert Case.objects.count() == 1
    # The question pages of a submitted application lead to the same place.
    assert client.get(page_url(draft, "about_you"))["Location"] == again["Location"]


def test_the_receipt_shows_the_answers_only_to_the_browser_that_applied(client, library_card):
    draft = begin(client)
    fill_to_check(client, draft)
    client.post(reverse("apply_check", args=[draft.public_id]))
    case = Case.objects.get()
    mine = client.get(reverse("receipt", args=[case.public_id]))
    assert case.reference in mine.text
    assert "12 Harbor Street" in mine.text
    stranger = Client().get(reverse("receipt", args=[case.public_id]))
    assert case.reference in stranger.text
    assert "12 Harbor Street" not in stranger.text


def test_a_question_revealed_by_an_answer_is_asked_before_moving_on_without_javascript(client, library_card):
    draft = begin(client)
    post_page(client, draft, "about_you", ABOUT_YOU)
    post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file()})
    page = post_page(
        client, draft, "card", {"delivery": "pickup", "children_cards": "false"}, shown="delivery,children_cards"
    )
    assert page.status_code == 200
    assert "We have added questions to this page" in page.text
    assert "Which branch?" in page.text
    answered = post_page(
        client,
        draft,
        "card",
        {"delivery": "pickup", "branch": "Harbor", "children_cards": "false"},
        shown="delivery,branch,children_cards",
    )
    assert answered["Location"] == reverse("apply_check", args=[draft.public_id])


def test_hidden_answers_are_cleared_on_the_server(client, library_card):
    draft = begin(client)
    post_page(client, draft, "card", {"delivery": "mail", "branch": "Harbor", "children_cards": "false"}, "back")
    draft.refresh_from_db()
    assert draft.data == {"delivery": "mail", "children_cards": False}


def test_repeating_group_add_and_remove_without_javascript(client, library_card):
    draft = begin(client)
    post_page(client, draft, "card", {"delivery": "mail", "children_cards": "true"}, "back")
    child = {"children.0.name": "Leo Lima", "children.0.date_of_birth": "2019-07-02"}
    added = post_page(client, draft, "children", child, "add:children")
    assert added.status_code == 303
    assert added["Location"] == page_url(draft, "children")
    page = client.get(added["Location"])
    assert "Child 2" in page.text
    assert 'value="Leo Lima"' in page.text
    removed = post_page(client, draft, "children", {**child, "children.1.name": "Mia"}, "remove:children.0")
    assert removed.status_code == 303
    draft.refresh_from_db()
    assert draft.data["children"] == [{"name": "Mia"}]


def test_a_change_from_check_answers_returns_to_check_answers(client, library_card):
    draft = begin(client)
    fill_to_check(client, draft)
    client.get(reverse("apply_check", args=[draft.public_id]))
    change = client.get(page_url(draft, "about_you") + "?return=check")
    assert 'name="return" value="check"' in change.text
    back = client.post(
        page_url(draft, "about_you"), {**ABOUT_YOU, "phone": "555 0100", "action": "continue", "return": "check"}
    )
    assert back["Location"] == reverse("apply_check", args=[draft.public_id])
    # A change that opens a new page leads there before check answers.
    opened = client.post(
        page_url(draft, "card"), {**CARD_MAIL, "children_cards": "true", "action": "continue", "return": "check"}
    )
    assert opened["Location"] == page_url(draft, "children") + "?return=check"


def test_an_upload_of_the_wrong_type_is_refused_with_a_message_and_nothing_kept(client, library_card):
    draft = begin(client)
    executable = proof_file("bill.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    page = post_page(client, draft, "address", {**ADDRESS, "proof_of_address": executable})
    assert page.status_code == 422
    assert "Proof of address: The selected file must be a" in page.text
    assert Upload.objects.count() == 0
    assert 'value="12 Harbor Street"' in page.text  # the rest of the page is kept


def test_save_and_come_back_later_by_email_link(client, library_card):
    draft = begin(client)
    saved = post_page(client, draft, "about_you", {"full_name": "Ana Lima", "email": "bad"}, "save")
    assert saved.status_code == 303
    page = client.get(saved["Location"])
    assert "Your answers are saved" in page.text
    sent = client.post(saved["Location"], {"email": "ana@example.org"})
    assert "We have sent a link to ana@example.org" in sent.text
    assert len(mail.outbox) == 1
    found = re.search(r"http://testserver(/resume/\S+/)", str(mail.outbox[0].body))
    assert found is not None
    link = found.group(1)

    elsewhere = Client()
    resumed = elsewhere.get(link)
    assert resumed.status_code == 303
    assert resumed["Location"] == page_url(draft, "about_you")
    assert 'value="Ana Lima"' in elsewhere.get(resumed["Location"]).text

    client.post(saved["Location"], {"email": "ana@example.org"})  # a new link replaces the old one
    assert Client().get(link).status_code == 404


def test_a_wrong_email_for_the_resume_link_is_an_error_not_a_crash(client, library_card):
    draft = begin(client)
    page = client.post(reverse("apply_saved", args=[draft.public_id]), {"email": "not an address"})
    assert page.status_code == 422
    assert "Enter an email address in the correct format" in page.text
    assert mail.outbox == []


def test_an_expired_draft_says_so_and_can_be_started_again(client, library_card):
    draft = begin(client)
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = client.get(page_url(draft, "about_you"))
    assert page.status_code == 410
    assert "This application has expired" in page.text


def test_another_browser_sees_a_session_ended_page_and_can_ask_for_a_link(client, library_card):
    draft = begin(client)
    post_page(client, draft, "about_you", ABOUT_YOU)
    stranger = Client()
    page = stranger.get(page_url(draft, "address"))
    assert page.status_code == 403
    assert "Your session has ended" in page.text
    assert "Your answers were kept" in page.text
    assert "Ana Lima" not in page.text
    assert "a•••@example.org" in page.text
    stranger.post(reverse("apply_timed_out_link", args=[draft.public_id]))
    assert mail.outbox[0].to == ["ana@example.org"]


def test_the_live_fields_endpoint_redraws_questions_without_saving(client, library_card):
    draft = begin(client)
    url = reverse("apply_page_fields", args=[draft.public_id, "card"])
    reply = client.post(url, {"delivery": "pickup", "action": ""}).json()
    assert "branch" in reply["shown"].split(",")
    assert "Which branch?" in reply["html"]
    draft.refresh_from_db()
    assert draft.data == {}


def test_pages_speak_the_chosen_language(client, library_card):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    draft = begin(client)
    page = client.get(page_url(draft, "about_you"))
    assert '<html lang="zh-hans"' in page.text
    assert "关于您" in page.text
    assert "全名" in page.text
    errors = post_page(client, draft, "about_you", {})
    assert "全名" in errors.text


def test_a_caseworker_applies_for_someone_by_phone(client, library_card, librarian):
    client.force_login(librarian)
    start = client.post(reverse("assisted_start"), {"program": "library-card", "channel": "phone", "name": "Wei Chen"})
    assert start.status_code == 303
    draft = Draft.objects.get()
    assert draft.assisted_by == librarian
    assert draft.channel == "phone"
    page = client.get(start["Location"])
    assert "You are applying for <strong>Wei Chen</strong>" in page.text
    fill_to_check(client, draft)
    client.post(reverse("apply_check", args=[draft.public_id]))
    case = Case.objects.get()
    assert (case.channel, case.submitted_by, case.on_behalf_of) == ("phone", librarian, "Wei Chen")
    # Nothing carries over to the next person served.
    assert str(draft.public_id) not in client.session.get("civicflow.drafts", [])


def test_assisted_applications_need_a_name_and_a_channel(client, library_card, librarian):
    client.force_login(librarian)
    page = client.post(reverse("assisted_start"), {"program": "library-card"})
    assert page.status_code == 422
    assert "Choose how the person is applying" in page.text
    assert "Enter the full name of the person you are applying for" in page.text
    assert Draft.objects.count() == 0


def test_a_name_too_long_is_refused_with_its_length_not_cut_short(client, library_card, librarian):
    client.force_login(librarian)
    name = "W" * 201
    page = client.post(reverse("assisted_start"), {"program": "library-card", "channel": "phone", "name": name})
    assert page.status_code == 422
    assert "The name can be at most 200 characters; this one has 201" in page.text
    assert name in page.text, "what was typed is kept"
    assert Draft.objects.count() == 0
    with pytest.raises(services.ServiceError, match="at most 200"):
        services.draft_start(program=library_card, user=librarian, channel="phone", on_behalf_of=name)


def test_citizens_cannot_open_the_assisted_start(client, library_card, django_user_model):
    citizen = django_user_model.objects.create_user("citizen", password="x" * 16)
    client.force_login(citizen)
    assert client.get(reverse("assisted_start")).status_code == 403


def test_expire_drafts_deletes_only_unsubmitted_drafts_past_their_time_with_their_files(client, library_card):
    from io import StringIO

    from django.core.management import call_command

    old = begin(client)
    post_page(client, old, "address", {**ADDRESS, "proof_of_address": proof_file()}, "save")
    stored = Upload.objects.get()
    fresh = begin(client)
    Draft.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    out = StringIO()
    call_command("expire-drafts", "--dry-run", stdout=out)
    assert "would delete 1 expired draft(s)" in out.getvalue()
    assert Draft.objects.count() == 2
    call_command("expire-drafts", stdout=out)
    assert list(Draft.objects.all()) == [fresh]
    assert not Upload.objects.filter(pk=stored.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_submits_racing_on_one_draft_make_exactly_one_case(library_card):
    """A double click, a second tab, a retry: eight submits at once, one case, one reference."""
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth.models import AnonymousUser
    from django.db import connection

    from workflows import services

    client = Client()
    draft = begin(client)
    fill_to_check(client, draft)

    def submit(_: int) -> str:
        try:
            return services.draft_submit(draft_id=draft.pk, user=AnonymousUser()).reference
        except services.AlreadySubmitted as already:
            return already.case.reference
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(submit, range(8)))
    assert Case.objects.count() == 1
    assert set(references) == {Case.objects.get().reference}


def test_the_caseworker_downloads_the_attached_document_and_others_cannot(client, library_card, librarian, auditor):
    from workflows.models import Task

    draft = begin(client)
    fill_to_check(client, draft)
    client.post(reverse("apply_check", args=[draft.public_id]))
    task = Task.objects.get()
    upload = Upload.objects.get()
    url = reverse("task_file", args=[task.pk, upload.public_id])
    assert client.get(url).status_code == 302  # citizens are sent to sign in

    client.force_login(librarian)
    page = client.get(reverse("task", args=[task.pk]))
    assert url in page.text
    assert "bill.pdf" in page.text
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")

    client.force_login(auditor)
    assert client.get(url).status_code == 404


def test_a_signed_in_citizen_finds_their_draft_on_another_device(client, library_card, django_user_model):
    citizen = django_user_model.objects.create_user("citizen", password="x" * 16)
    client.force_login(citizen)
    draft = begin(client)
    post_page(client, draft, "about_you", ABOUT_YOU)
    assert Draft.objects.get().owner == citizen

    other_device = Client()
    other_device.force_login(citizen)
    start = other_device.get(reverse("apply_start", args=["library-card"]))
    assert "Continue your application" in start.text
    assert page_url(draft, "about_you") in start.text
    assert other_device.get(page_url(draft, "about_you")).status_code == 200


def test_a_long_form_is_walked_from_a_task_list(client, library_card, tmp_path):
    from tests.workflows.apply_steps import publish_with_task_list

    publish_with_task_list(tmp_path)
    response = client.post(reverse("apply_begin", args=["library-card"]))
    draft = Draft.objects.get()
    tasks = reverse("apply_tasks", args=[draft.public_id])
    assert response["Location"] == tasks
    page = client.get(tasks).text
    assert "You’ve completed 0 of 3 sections." in page
    assert f'href="{page_url(draft, "about_you")}"' in page
    assert f'href="{page_url(draft, "address")}"' not in page  # cannot start yet: not a link
    assert page.count("Cannot start yet") == 3  # two sections and check answers
    assert client.get(page_url(draft, "address"))["Location"] == tasks
    assert "usa-step-indicator" not in client.get(page_url(draft, "about_you")).text

    assert post_page(client, draft, "about_you", ABOUT_YOU)["Location"] == tasks
    page = client.get(tasks).text
    assert "You’ve completed 1 of 3 sections." in page
    assert f'href="{page_url(draft, "address")}"' in page
    assert post_page(client, draft, "address", ADDRESS, "back")["Location"] == tasks
    assert "In progress" in client.get(tasks).text
    post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file()})
    post_page(client, draft, "card", CARD_MAIL)
    page = client.get(tasks).text
    assert "You’ve completed 3 of 3 sections." in page
    assert f'href="{reverse("apply_check", args=[draft.public_id])}"' in page


@pytest.mark.parametrize(
    "answers",
    [
        {"full_name": "x" * 5000, "email": "a@b.c", "date_of_birth": "not a date"},
        {"children.99999.name": "Leo", "children.0.date_of_birth": "\x00"},
        {"address.line1": ["one", "two"], "delivery": "drone", "branch": "Atlantis"},
        {"action": "remove:children.999"},
        {"action": "add:no_such_field"},
        {"action": "remove-file:proof_of_address:not-a-uuid"},
        {"children_cards": "maybe", "phone": "1" * 5000},
        {"date_of_birth": "1e999999", "full_name": "9" * 400},
    ],
    ids=["long", "indexes", "lists", "remove", "add", "remove-file", "odd", "huge-number"],
)
def test_odd_answers_get_messages_never_a_server_error(client, library_card, answers):
    draft = begin(client)
    for page in ("about_you", "address", "card", "children"):
        response = client.post(page_url(draft, page), {"action": "continue", **answers})
        assert response.status_code in (200, 302, 303, 422), (page, response.status_code)
    assert client.get(reverse("apply_check", args=[draft.public_id])).status_code == 200
    assert client.post(reverse("apply_check", args=[draft.public_id])).status_code in (303, 422)


def test_a_replaced_or_hidden_file_is_not_kept(client, library_card):
    draft = begin(client)
    post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file("first.pdf")}, "save")
    first = Upload.objects.get()
    post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file("second.pdf")}, "save")
    assert [upload.original_name for upload in Upload.objects.all()] == ["second.pdf"]
    assert not Upload.objects.filter(pk=first.pk).exists()
    second = Upload.objects.get()
    post_page(client, draft, "address", ADDRESS, f"remove-file:proof_of_address:{second.public_id}")
    assert Upload.objects.count() == 0
    draft.refresh_from_db()
    assert "proof_of_address" not in draft.data


def test_only_the_programs_own_staff_apply_for_someone_and_only_on_its_channels(
    client, library_card, auditor, librarian, tmp_path
):
    client.force_login(auditor)
    page = client.get(reverse("assisted_start"))
    assert 'value="library-card"' not in page.text  # an auditor holds none of the program's roles
    refused = client.post(reverse("assisted_start"), {"program": "library-card", "channel": "phone", "name": "Wei"})
    assert refused.status_code == 422
    assert Draft.objects.count() == 0

    publish_library_card_with(tmp_path, "program.yaml", lambda text: text + "channels: [online, counter]\n")
    client.force_login(librarian)
    by_phone = client.post(reverse("assisted_start"), {"program": "library-card", "channel": "phone", "name": "Wei"})
    assert by_phone.status_code == 422
    assert "does not take applications by phone" in by_phone.text
    at_counter = client.post(
        reverse("assisted_start"), {"program": "library-card", "channel": "counter", "name": "Wei"}
    )
    assert at_counter.status_code == 303


def test_a_program_not_taking_online_applications_says_so(client, library_card, tmp_path):
    publish_library_card_with(tmp_path, "program.yaml", lambda text: text + "channels: [counter, paper]\n")
    refused = client.post(reverse("apply_begin", args=["library-card"]))
    assert refused.status_code == 403
    assert "This program does not take applications online." in refused.text
    assert Draft.objects.count() == 0
