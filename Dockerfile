# biomatdb in a container: the API on port 8000, the SQLite database in the /data
# volume (or PostgreSQL: set BIOMATDB_DATABASE_URL). deploy/README.md "Docker".
#
#   docker build -t biomatdb .              # BuildKit (Docker's builder since 23.0)
#   docker run -d --name biomatdb -p 127.0.0.1:8000:8000 -v biomatdb-data:/data \
#       --stop-timeout 60 biomatdb
#   docker exec biomatdb biomatdb seed        # any command runs the same way

# --- build: the wheel of this checkout, and the wheels of everything it needs ---
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md LICENSE LICENSE-DATA ./
COPY src ./src
COPY alembic ./alembic
COPY seed ./seed
COPY schemas ./schemas
# requirements.txt names this checkout's wheel, with the extra, for the next stage.
RUN pip wheel --wheel-dir /wheels ".[postgresql,redis]" \
    && set -- /wheels/biomatdb-*.whl \
    && echo "$1[postgresql,redis]" > /wheels/requirements.txt

# --- run: the wheels installed on a clean slim image, served by an unprivileged user ---
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Installed from the builder's wheels only (no index): the image holds no build tools
# and no wheel files, and its versions are those the builder resolved.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels --requirement /wheels/requirements.txt

RUN groupadd --system --gid 10001 biomatdb \
    && useradd --system --uid 10001 --gid biomatdb --create-home \
        --home-dir /home/biomatdb --shell /usr/sbin/nologin biomatdb \
    && mkdir /data \
    && chown biomatdb:biomatdb /data

# By number, so that a platform can check it is not root (Kubernetes runAsNonRoot).
USER 10001:10001
WORKDIR /home/biomatdb
# matplotlib's font cache (the Ashby chart), built once here rather than at each start.
RUN python -c "import matplotlib.font_manager"

# SQLite by default, on the volume; a PostgreSQL URL (psycopg is installed) instead:
#   -e BIOMATDB_DATABASE_URL=postgresql://user:password@host:5432/biomatdb
# Behind a reverse proxy, also BIOMATDB_TRUSTED_PROXIES (the proxy's address) and
# BIOMATDB_PUBLIC_BASE_URL. Workers: one per CPU core given to the container.
ENV BIOMATDB_DATABASE_URL=sqlite:////data/biomatdb.sqlite3 \
    WEB_CONCURRENCY=2
VOLUME ["/data"]
EXPOSE 8000

# Ready: the database is reachable and at this code's revision (a 503 fails urlopen).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]

# serve --upgrade migrates the database first (creating the SQLite file on first run).
# exec: the server is PID 1 and gets docker stop's SIGTERM, finishing the requests in
# flight (give it time: --stop-timeout 60). Another command replaces this one
# (`docker run ... biomatdb biomatdb db upgrade`).
CMD ["sh", "-c", "exec biomatdb serve --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY}\" --upgrade"]
