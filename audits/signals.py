"""What the audits feature announces for the notifications app to mail (audits sits below it).

`verification_requested` is sent inside the transaction that stores a VerificationRequest; the
notifications receiver puts the auditor's mail into the outbox in that transaction, and the mail
(with a fresh link, made when it is sent: audits.actions.verification_mail) goes after commit, with
retries, never twice. A CA's submission therefore never fails or waits because SMTP is down.
"""

from __future__ import annotations

from django.dispatch import Signal

# Receivers get `request=<VerificationRequest>`.
verification_requested = Signal()
