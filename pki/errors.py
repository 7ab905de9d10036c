"""The error every pki module raises for bad certificate input (its own module, so that
x509 and names can both raise it without importing each other)."""

from __future__ import annotations


class CertificateError(ValueError):
    """The one error raised for bad certificate input.

    ``str(err)`` is ``"<source>: <what is wrong>"``; the parts are also
    available as ``err.source`` and ``err.reason``.
    """

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")
