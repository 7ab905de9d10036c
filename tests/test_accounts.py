import re

import pytest
from django.core import mail

from accounts.models import User
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_home_page_shows_navigation_and_anonymous_role(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Incidents", "CAs", "Audits", "Distrust", "API"):
        assert f">{label}</a>" in html
    assert "Anonymous reader" in html


@pytest.mark.django_db
def test_sign_up_makes_a_reviewer_and_signs_them_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "email": "newbie@example.test", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    user = User.objects.get(username="newbie")
    assert not user.is_staff and not user.represented_owners.exists()
    assert "Community reviewer" in response.content.decode()


@pytest.mark.django_db
def test_sign_up_with_mismatched_passwords_is_refused_and_creates_nothing(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "email": "newbie@example.test", "password1": PASSWORD, "password2": "other"},
    )
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_sign_in_and_sign_out(client, rep_a):
    response = client.post("/accounts/login/", {"username": "rep_a", "password": PASSWORD}, follow=True)
    assert "CA representative" in response.content.decode()
    response = client.post("/accounts/logout/", follow=True)
    assert "Anonymous reader" in response.content.decode()


@pytest.mark.django_db
def test_wrong_password_does_not_sign_in(client, rep_a):
    response = client.post("/accounts/login/", {"username": "rep_a", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_by_email(client, reviewer, fresh_counts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": reviewer.email})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["X-Rootwatch-Reason"] == "Account"
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers  # account mail is not a subscription
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    new = "an entirely new passphrase 42"
    response = client.post(response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True)
    assert "Password changed" in response.content.decode()
    reviewer.refresh_from_db()
    assert reviewer.check_password(new)


@pytest.mark.django_db
def test_password_reset_for_unknown_address_sends_nothing(client, fresh_counts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": "ghost@example.test"})
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_with_smtp_down_answers_normally_and_the_mail_goes_later(
        client, reviewer, settings, fresh_counts, smtp_server, django_capture_on_commit_callbacks):
    from history.models import Event
    from notifications import actions as notes
    from notifications.models import Notification

    port = smtp_server.port
    settings.EMAIL_PORT = 1  # nothing listens: before the outbox, this request answered 500
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password_reset/", {"email": reviewer.email})
    assert response.status_code == 302 and response.url == "/accounts/password_reset/done/"
    row = Notification.objects.get(kind="password_reset")
    assert (row.email, row.state, row.attempts) == (reviewer.email, "pending", 1)
    assert "token" not in row.body and row.body == ""  # no link is stored, only made when sent
    event = Event.objects.get(pk=row.subject_id)
    assert (event.action, event.subject_id, event.staff_only) == ("password_reset_requested", reviewer.pk, True)
    settings.EMAIL_PORT = port
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        notes.sweep_run()
    assert smtp_server.keys() == [(reviewer.email, str(row.pk))]
    body = smtp_server.messages[0]["msg"].get_payload(decode=True).decode()
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", body).group(1)
    assert client.get(link, follow=True).status_code == 200


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_prints_passwords(capsys):
    from django.core.management import call_command

    call_command("load_demo")
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "rootwatch-staff" in out and "rootwatch-carep" in out and "rootwatch-reviewer" in out
    assert User.objects.filter(username__in=["staff", "carep", "reviewer"]).count() == 3
    assert User.objects.get(username="staff").is_staff
