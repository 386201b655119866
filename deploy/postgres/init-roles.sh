#!/bin/sh
# Run by the postgres image on the first start of a new data volume (/docker-entrypoint-initdb.d),
# as the superuser: the role `billing` owning the `billing` database (the workers and the
# migration connect as it) and the role `temporal`, allowed to create Temporal's two databases
# (the temporal-schema job does, with temporal-sql-tool). Passwords come from the environment
# (docker-compose.yml passes them from .env), never from this file.
set -eu

: "${BILLING_DB_PASSWORD:?BILLING_DB_PASSWORD is required (set it in .env)}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required (set it in .env)}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v billing_password="$BILLING_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE billing LOGIN PASSWORD :'billing_password';
CREATE DATABASE billing OWNER billing;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
