# Bookworm's PostgreSQL client is 15, the major version of compose's db: `manage.py backup` runs its pg_dump,
# `restore` its pg_restore and psql (README, "Backup and restore").
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STATIC_MANIFEST=1 VAR_DIR=/app/var
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
RUN pip install --no-cache-dir --upgrade pip
COPY . .
RUN pip install --no-cache-dir -e . \
 && SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput
RUN useradd --system --home /app rootwatch && mkdir -p /app/var/media /app/var/backups && chown -R rootwatch /app/var
USER rootwatch
EXPOSE 8000
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
