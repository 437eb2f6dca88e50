FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# DejaVu fonts for the hand-in PDF (Welsh and other Latin-script names; docs/handin.md).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY petitions ./petitions
COPY workers ./workers
COPY templates ./templates
COPY migrations ./migrations
COPY deploy ./deploy
RUN pip install --no-cache-dir . && useradd --create-home app && mkdir -p /app/instance && chown app /app/instance
USER app
EXPOSE 8000
# Threaded workers and timeouts, read from one file (docs/operations.md, "Slow clients").
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "petitions:create_app()"]
