# ProductOps image for a team install (see docker-compose.yml). One image runs web, worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never PATH=/opt/venv/bin:$PATH

# WeasyPrint needs Pango; packs need a CJK font for Chinese text; chart images need Chromium.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk chromium \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN pip install --no-cache-dir uv==0.13.8 && uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --system --home /app productops && mkdir -p /app/var && chown -R productops /app/var
USER productops
EXPOSE 8000
CMD ["gunicorn", "productops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
