"""Every mail goes through the outbox: only notifications/emails.py talks to Django's mail API to send.

Other apps may build an EmailMessage (audits' verification request, accounts' password reset) for the
outbox to send, but nothing else may send one, call send_mail and friends, or open a mail connection:
a new mail that skips the outbox (no retry, no exactly-once, an error page when SMTP is down) fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_architecture import ROOT, project_modules

SENDERS = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "get_connection"}
ALLOWED = {"notifications.emails"}


def _mail_calls(path: Path) -> list[str]:
    """What in a module sends mail: Django's send functions, or `.send()` in a module that builds
    messages (a signal's `.send(sender=...)` is not mail)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    builds_messages = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("django.core.mail"):
            found += [f"imports {a.name}" for a in node.names if a.name in SENDERS]
            builds_messages |= any(a.name.startswith("Email") for a in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            is_signal = any(k.arg == "sender" for k in node.keywords)
            if name in SENDERS or (builds_messages and name in ("send", "send_messages") and not is_signal):
                found.append(f"calls {ast.unparse(func)} (line {node.lineno})")
    return found


def test_only_the_outbox_sends_mail():
    offenders = {}
    for module, path in project_modules().items():
        if module in ALLOWED:
            continue
        calls = _mail_calls(path)
        if calls:
            offenders[module] = calls
    assert offenders == {}


def test_the_check_finds_a_mail_sent_past_the_outbox(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from django.core.mail import EmailMessage, send_mail\n\ndef f(signal):\n"
                      "    send_mail('s', 'b', None, ['a@b'])\n    EmailMessage('s', 'b', to=['a@b']).send()\n"
                      "    signal.send(sender=None)\n")
    assert _mail_calls(sample) == ["imports send_mail", "calls send_mail (line 4)",
                                   "calls EmailMessage('s', 'b', to=['a@b']).send (line 5)"]
    assert _mail_calls(ROOT / "notifications" / "emails.py")  # the outbox's sender is seen, and allowed


def test_password_reset_uses_the_outbox_form():
    from django.urls import resolve

    from accounts.views import OutboxPasswordResetForm

    view = resolve("/accounts/password_reset/").func.view_class
    assert issubclass(view.form_class, OutboxPasswordResetForm)
