# One image for every production role: web (the default command), the Celery
# worker and beat, and the one-shot migrate step; docker-compose.yml picks
# the command. Configuration comes from the environment (.env.example).
FROM python:3.11-slim

# WeasyPrint (evidence packs, access letters) renders with Pango and needs
# the fonts the packs embed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PRIVACYDESK_VAR_DIR=/var/lib/privacydesk \
    MEDIA_ROOT=/var/lib/privacydesk/media

WORKDIR /app

# Dependencies before code, so a code change reuses this layer. The project
# declares no packages (`packages = []`): installing it installs exactly the
# pinned dependencies, and the code runs from /app.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected at build time (the embedded flag only lets the
# settings load without production secrets; nothing else is kept from it).
RUN groupadd --system privacydesk \
    && useradd --system --gid privacydesk --home-dir /var/lib/privacydesk privacydesk \
    && mkdir -p /var/lib/privacydesk/media \
    && PRIVACYDESK_EMBEDDED=true python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /var/lib/privacydesk/*.sqlite3 \
    && chown -R privacydesk:privacydesk /var/lib/privacydesk

USER privacydesk
EXPOSE 8000

# granian, as privacydesk.web sets it up: $WEB_PORT (8000), $WEB_WORKERS (3).
CMD ["python", "-m", "privacydesk.web"]
