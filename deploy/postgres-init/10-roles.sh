#!/usr/bin/env bash
# Separate least-privilege roles and databases for Temporal and the application.
#
# The postgres image runs this once, on an empty data volume. It is idempotent, so it is also how passwords are
# rotated, or an existing volume is brought to this layout, by hand:
#   docker compose up -d postgres     # after editing .env: hands the container the new passwords
#   docker compose exec -u postgres postgres bash /docker-entrypoint-initdb.d/10-roles.sh
#
#   temporal            owns temporal and temporal_visibility; Temporal's schema job and server log in with it
#   innosocial_owner    owns the innosocial database and its schema; only the migration job logs in with it
#   innosocial_app      the worker and the API: rows in, rows out (SELECT, INSERT, UPDATE, DELETE), no DDL
#   innosocial_backup   pg_dump: read-only
set -euo pipefail

: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
: "${INNOSOCIAL_OWNER_DB_PASSWORD:?set INNOSOCIAL_OWNER_DB_PASSWORD}"
: "${INNOSOCIAL_APP_DB_PASSWORD:?set INNOSOCIAL_APP_DB_PASSWORD}"
: "${INNOSOCIAL_BACKUP_DB_PASSWORD:?set INNOSOCIAL_BACKUP_DB_PASSWORD}"

# psql variables (:'name') quote the passwords as literals, whatever characters they hold.
psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc -q --username "${POSTGRES_USER:-postgres}"
  -v temporal_password="$TEMPORAL_DB_PASSWORD"
  -v owner_password="$INNOSOCIAL_OWNER_DB_PASSWORD"
  -v app_password="$INNOSOCIAL_APP_DB_PASSWORD"
  -v backup_password="$INNOSOCIAL_BACKUP_DB_PASSWORD")

"${psql[@]}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
SELECT format('CREATE ROLE %I', name)
  FROM unnest(ARRAY['temporal', 'innosocial_owner', 'innosocial_app', 'innosocial_backup']) AS name
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name)
\gexec

-- Stated in full on every run, so a role widened by hand is narrowed again.
ALTER ROLE temporal WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'temporal_password';
ALTER ROLE innosocial_owner WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'owner_password';
ALTER ROLE innosocial_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';
ALTER ROLE innosocial_backup WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'backup_password';

-- Created here, not by temporal-sql-tool's `create`, so that the temporal role needs no CREATEDB.
SELECT format('CREATE DATABASE %I OWNER %I', db, owner)
  FROM (VALUES ('temporal', 'temporal'), ('temporal_visibility', 'temporal'), ('innosocial', 'innosocial_owner'))
       AS wanted(db, owner)
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = db)
\gexec

-- PUBLIC may connect to every new database by default: here each role reaches only its own.
REVOKE ALL ON DATABASE temporal, temporal_visibility, innosocial FROM PUBLIC;
GRANT CONNECT ON DATABASE innosocial TO innosocial_app, innosocial_backup;
SQL

"${psql[@]}" --dbname innosocial <<'SQL'
-- Only the owner creates tables (the migration job); before PostgreSQL 15 PUBLIC could create in `public` too.
ALTER SCHEMA public OWNER TO innosocial_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO innosocial_app, innosocial_backup;

-- Every table and sequence the migrations create from now on, without a GRANT in each migration.
ALTER DEFAULT PRIVILEGES FOR ROLE innosocial_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO innosocial_app;
ALTER DEFAULT PRIVILEGES FOR ROLE innosocial_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO innosocial_app;
ALTER DEFAULT PRIVILEGES FOR ROLE innosocial_owner IN SCHEMA public GRANT SELECT ON TABLES TO innosocial_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE innosocial_owner IN SCHEMA public GRANT SELECT ON SEQUENCES TO innosocial_backup;

-- And those that exist already, when this runs against a database migrated before.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO innosocial_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO innosocial_app;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO innosocial_backup;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO innosocial_backup;
SQL

echo "roles: temporal, innosocial_owner, innosocial_app, innosocial_backup ready"
