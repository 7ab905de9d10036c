"""gunicorn's settings for `gunicorn -c python:config.gunicorn config.wsgi:application` (the
Dockerfile and docker-compose start it so): an access log on stdout whose lines carry no secret
query parameter (config.redaction) and the client address as config.proxies reads it."""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.redaction import redact

accesslog = "-"

# Atoms that may hold a URL; header atoms that are credentials themselves.
_URL_ATOMS = ("r", "q", "f", "{raw_uri}e", "{query_string}e", "{http_referer}e", "{referer}i")
_SECRET_HEADERS = ("{authorization}i", "{x-bugzilla-api-key}i", "{cookie}i", "{http_authorization}e",
                   "{http_x_bugzilla_api_key}e", "{http_cookie}e")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        for name in _SECRET_HEADERS:
            if name in atoms:
                atoms[name] = "[redacted]"
        try:
            from config.proxies import client_address

            atoms["h"] = client_address(environ)
        except Exception:  # settings not loaded (a worker that failed to boot): the peer address
            pass
        return atoms


logger_class = RedactingLogger
