#!/bin/sh
# Runs once, when the postgres container starts on an empty data volume: one role and one database for
# Dagster's runs and events, one for the studio (system of record). The passwords come from the
# container's environment (deploy/.env), never from a file in the repository.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v dagster_pw="$DAGSTER_PG_PASSWORD" -v studio_pw="$STUDIO_PG_PASSWORD" <<'SQL'
CREATE ROLE dagster LOGIN PASSWORD :'dagster_pw';
CREATE DATABASE dagster OWNER dagster;
CREATE ROLE studio LOGIN PASSWORD :'studio_pw';
CREATE DATABASE studio OWNER studio;
SQL
