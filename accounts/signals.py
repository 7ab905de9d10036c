"""What accounts announce for the notifications app to mail (accounts sits below it).

`password_reset_requested` is sent for each account a reset was asked for; the notifications
receiver puts the mail into the outbox, and the link is made when the mail is sent
(accounts.emails.password_reset_message), so no reset token is ever stored.
"""

from __future__ import annotations

from django.dispatch import Signal

# Receivers get `user=<User>` and `event=<history.Event>` (the request's history row).
password_reset_requested = Signal()
