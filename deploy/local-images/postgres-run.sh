#!/bin/bash
# First start: initdb with POSTGRES_USER as superuser (password auth over TCP), create POSTGRES_DB.
# The password comes from POSTGRES_PASSWORD_FILE (a compose secret, as docker-compose.yml passes it) or, as
# the official image also allows, POSTGRES_PASSWORD.
set -euo pipefail
if [[ ! -s $PGDATA/PG_VERSION ]]; then
    pwfile=$(mktemp)
    if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
        cat -- "$POSTGRES_PASSWORD_FILE" >"$pwfile"
    else
        printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
    fi
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    createdb -U "$POSTGRES_USER" "${POSTGRES_DB:-$POSTGRES_USER}"
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
