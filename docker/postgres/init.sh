#!/bin/sh
# Runs once, when the postgres container initializes an empty data volume
# (/docker-entrypoint-initdb.d). Creates a role and a database for each user of the server:
#   rat_catalog -> iceberg       the Iceberg SQL catalog (RAT_CATALOG_URI)
#   rat_catalog -> iceberg_rest  the optional REST catalog (compose profile "rest")
#   dagster     -> dagster       Dagster's runs, events and schedules
# Passwords come from the environment (docker/.env): CATALOG_DB_PASSWORD, DAGSTER_DB_PASSWORD.
set -e

: "${CATALOG_DB_PASSWORD:?CATALOG_DB_PASSWORD is not set}"
: "${DAGSTER_DB_PASSWORD:?DAGSTER_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v catalog_pw="$CATALOG_DB_PASSWORD" -v dagster_pw="$DAGSTER_DB_PASSWORD" <<'SQL'
CREATE ROLE rat_catalog LOGIN PASSWORD :'catalog_pw';
CREATE DATABASE iceberg OWNER rat_catalog;
CREATE DATABASE iceberg_rest OWNER rat_catalog;
CREATE ROLE dagster LOGIN PASSWORD :'dagster_pw';
CREATE DATABASE dagster OWNER dagster;
REVOKE ALL ON DATABASE iceberg, iceberg_rest, dagster FROM PUBLIC;
SQL
