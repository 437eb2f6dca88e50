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
# granian with the settings of deploy/granian.env (docs/operations.md, "Web server and slow
# clients"): each of the file's values unless the environment already sets it; WEB_CONCURRENCY,
# when set, is the number of worker processes.
CMD ["sh", "-c", "[ -z \"$WEB_CONCURRENCY\" ] || export GRANIAN_WORKERS=\"$WEB_CONCURRENCY\"; env=$(export -p); set -a; . deploy/granian.env; set +a; eval \"$env\"; exec granian petitions:create_app"]
