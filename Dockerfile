# syntax=docker/dockerfile:1
# The SST application image: one image for the web server, the Celery worker and Celery beat
# (docker-compose.yml picks the command). Configuration comes from the environment at run
# time; nothing secret is baked in.
FROM python:3.11-slim-bookworm

# PYTHONPATH: import the code in /app (templates, static files and translations live beside
# it), never the copy `pip install .` puts in site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# Pango for WeasyPrint (PDF export), and a font for the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . && rm -rf build *.egg-info

# Static files are collected at build time with production settings. Those settings refuse to
# load without secrets, so this one step gets dummy values that exist only during the build.
RUN SST_ENVIRONMENT=production \
    DJANGO_SECRET_KEY=build-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    PERSONNUMMER_KEYS=build-only-not-a-key \
    PERSONNUMMER_HASH_KEY=build-only-not-a-key \
    python manage.py collectstatic --noinput

# The app runs unprivileged. var/imports holds uploaded import files until the worker has
# read them; docker-compose.yml mounts a volume there, which starts out owned by this user.
RUN groupadd --system --gid 10001 sst \
    && useradd --system --uid 10001 --gid sst --home-dir /app --shell /usr/sbin/nologin sst \
    && mkdir -p /app/var/imports \
    && chown -R sst:sst /app/var \
    && chmod 700 /app/var/imports
USER sst

ENV SST_ENVIRONMENT=production
EXPOSE 8000
CMD ["gunicorn", "sst.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
