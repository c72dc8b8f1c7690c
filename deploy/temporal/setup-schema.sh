#!/bin/sh
# The temporal-schema job (temporalio/admin-tools): brings Temporal's two databases to the schema of this server
# version. Both steps are idempotent, so it runs at every `docker compose up`, and an upgraded image migrates here.
# The databases themselves come from deploy/postgres-init/10-roles.sh, so the temporal role needs no CREATEDB.
# POSIX sh without pipefail: the admin-tools image has no bash; no pipeline here needs it.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS}" "${POSTGRES_USER:?set POSTGRES_USER}" "${SQL_PASSWORD:?set SQL_PASSWORD}"
port=${DB_PORT:-5432}
schema=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case $db in
    temporal) versioned=$schema/temporal/versioned ;;
    *) versioned=$schema/visibility/versioned ;;
  esac
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" --db "$db" \
    setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" --db "$db" \
    update-schema -d "$versioned"
done
echo "temporal-schema: temporal and temporal_visibility are up to date"
