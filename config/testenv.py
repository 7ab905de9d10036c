"""Loaded by pytest (`-p config.testenv`) before Django's settings, so tests need no exported variables."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-test-only-key")
# Tests talk plain HTTP to the test client and the live server.
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# The whole suite talks from 127.0.0.1: rate-limit tests set their own small limits.
os.environ.setdefault("API_RATE_PER_ADDRESS", "100000/minute")
os.environ.setdefault("API_RATE_PER_KEY", "100000/minute")
