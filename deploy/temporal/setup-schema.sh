#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-schema, image temporalio/admin-tools, same
# version as temporalio/server): creates Temporal's two databases as the role POSTGRES_USER and
# brings their schemas to the server's version with temporal-sql-tool. Safe to run again: an
# existing database is not set up a second time, and update-schema applies only what is missing.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER (the role that owns Temporal's databases) is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD (that role's password, from .env) is required}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT="${TEMPORAL_HOME:-/etc/temporal}/schema/postgresql/v12"
# temporal-sql-tool reads the password from SQL_PASSWORD: it never appears on a command line.
export SQL_PASSWORD="$POSTGRES_PWD"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

# database name, schema folder under SCHEMA_ROOT
setup() {
  if output=$(sql_tool --db "$1" create 2>&1); then
    echo "created database $1"
    sql_tool --db "$1" setup-schema -v 0.0
  elif echo "$output" | grep -q 'already exists'; then
    echo "database $1 exists"
  else
    echo "$output" >&2
    echo "could not create database $1 on $POSTGRES_SEEDS:$DB_PORT as $POSTGRES_USER" >&2
    exit 1
  fi
  sql_tool --db "$1" update-schema -d "$SCHEMA_ROOT/$2/versioned"
}

setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo "Temporal schemas are up to date"
