"""The end-to-end tests' SMTP server speaks SMTP as smtplib and Django's SMTP backend expect."""

from __future__ import annotations

import smtplib
import socket
import threading
import time

import pytest

from tests.e2e.smtp_sink import SMTPSink


@pytest.fixture
def sink():
    with SMTPSink() as server:
        yield server


def test_django_smtp_backend_delivers_to_the_sink_and_headers_read_back(sink):
    from django.core.mail import EmailMessage
    from django.core.mail.backends.smtp import EmailBackend

    body = "Première ligne\n.a line that starts with a dot\n..two dots\n"
    message = EmailMessage(subject="[Rootwatch] Ünïcode subject", body=body, from_email="rw@example.test",
                           to=["carep@example.test"], cc=["watcher@example.test"],
                           headers={"X-Rootwatch-Notification": "42", "Message-ID": "<notification-42@rw.test>"})
    backend = EmailBackend(host=sink.host, port=sink.port, use_tls=False, timeout=5, fail_silently=False)
    assert backend.send_messages([message]) == 1
    [got] = sink.messages
    assert got.mail_from == "rw@example.test"
    assert got.rcpt_to == ("carep@example.test", "watcher@example.test")
    assert got.header("Subject") == "[Rootwatch] Ünïcode subject"
    assert got.header("Message-ID") == "<notification-42@rw.test>"
    assert got.notification_ids == (42,)
    assert got.message.get_content().replace("\r\n", "\n") == body  # dot-stuffing undone, UTF-8 intact
    assert sink.to("CAREP@example.test") == [got] and sink.to("nobody@example.test") == []
    assert sink.keys() == [("carep@example.test", "42")]


def test_sequence_errors_rset_noop_and_helo(sink):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        assert client.docmd("MAIL", "FROM:<a@example.test>")[0] == 503  # before HELO
        assert client.helo("client.test")[0] == 250
        assert client.docmd("RCPT", "TO:<b@example.test>")[0] == 503  # before MAIL
        assert client.docmd("DATA")[0] == 503
        assert client.docmd("NOOP")[0] == 250
        assert client.docmd("MAIL", "FROM:<a@example.test>")[0] == 250
        assert client.docmd("MAIL", "FROM:<a@example.test>")[0] == 503
        assert client.docmd("RCPT", "TO:<b@example.test>")[0] == 250
        assert client.docmd("RSET")[0] == 250
        assert client.docmd("DATA")[0] == 503  # RSET forgot the recipients
        assert client.docmd("RCPT", "TO:nobracket")[0] == 503  # and the sender
        assert client.docmd("BOGUS")[0] == 500
        client.sendmail("a@example.test", ["b@example.test"], b"Subject: x\r\n\r\nhello\r\n")
    assert [m.rcpt_to for m in sink.messages] == [("b@example.test",)]


def test_a_client_that_drops_mid_message_delivers_nothing(sink):
    conn = socket.create_connection((sink.host, sink.port), timeout=5)
    f = conn.makefile("rwb")
    f.readline()
    for command in (b"HELO x", b"MAIL FROM:<a@example.test>", b"RCPT TO:<b@example.test>", b"DATA"):
        f.write(command + b"\r\n")
        f.flush()
        f.readline()
    f.write(b"Subject: half\r\n\r\nno end marker\r\n")
    f.flush()
    conn.close()
    time.sleep(0.3)
    assert len(sink) == 0


def test_stalled_quit_holds_the_sender_after_its_250_until_released(sink):
    sink.stall_quit_after(1)
    done = threading.Event()

    def send():
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.sendmail("a@example.test", ["b@example.test"], b"Subject: held\r\n\r\nx\r\n")
        done.set()

    thread = threading.Thread(target=send)
    thread.start()
    sink.wait_for(lambda msgs: len(msgs) == 1, timeout=5)  # accepted ...
    deadline = time.monotonic() + 5
    while sink.stalled != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.stalled == 1 and not done.is_set()  # ... but the sender is still waiting
    sink.release()
    thread.join(timeout=5)
    assert done.is_set() and sink.stalled == 0 and len(sink) == 1
