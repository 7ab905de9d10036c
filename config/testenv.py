"""Loaded by pytest (`-p config.testenv`) before Django's settings, so tests need no exported variables."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-test-only-key")
# Tests talk plain HTTP to the test client and the live server.
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
