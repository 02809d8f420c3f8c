# Local stand-in for postgres:16-bookworm: Debian bookworm's PostgreSQL 15 (the newest bookworm ships). Same
# contract as the official image for what docker-compose.yml uses: POSTGRES_USER/PASSWORD/DB on first start,
# data in /var/lib/postgresql/data, pg_isready on PATH.
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-run.sh /usr/local/bin/postgres-run.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
CMD ["/usr/local/bin/postgres-run.sh"]
