#!/usr/bin/env bash
# A backup of the application database: `pg_dump -Fc`, one timestamped file, the newest BACKUP_KEEP kept.
#
#   docker compose --profile ops run --rm backup          (see deploy/README.md; cron it on the host)
#
# Connection: the libpq variables PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD (or PGPASSWORD_FILE, a file
# holding it). The compose service logs in as innosocial_backup, which may only read.
#   BACKUP_DIR      where the dumps go (default /backups)
#   BACKUP_KEEP     how many dumps to keep, oldest deleted first (default 14)
#   PG_BIN          optional: directory of pg_dump and pg_restore, when they are not on PATH
# Documents are rows of the database (document_blobs): the dump holds them. Prints the new dump's path last.
set -euo pipefail

backup_dir=${BACKUP_DIR:-/backups}
keep=${BACKUP_KEEP:-14}
bin=${PG_BIN:+$PG_BIN/}

if ! [[ $keep =~ ^[1-9][0-9]*$ ]]; then
  echo "backup: BACKUP_KEEP must be a positive whole number, not '$keep'" >&2
  exit 2
fi
if [[ -n ${PGPASSWORD_FILE:-} ]]; then
  PGPASSWORD=$(<"$PGPASSWORD_FILE")
  export PGPASSWORD
fi
: "${PGDATABASE:?set PGDATABASE (and PGHOST, PGUSER, PGPASSWORD)}"

# The dump holds personal data: readable by its owner only.
umask 077
mkdir -p "$backup_dir"

# One dump per second at most: never overwrite one, wait for the next second instead.
while :; do
  name="$PGDATABASE-$(date -u +%Y%m%dT%H%M%SZ)"
  dump="$backup_dir/$name.dump"
  [[ -e $dump ]] || break
  sleep 1
done
partial="$dump.partial"
trap 'rm -f "$partial"' EXIT

# Written aside and renamed when complete and readable, so a dump that exists is never a half-written one.
"${bin}pg_dump" --format=custom --compress=6 --no-password --file="$partial"
"${bin}pg_restore" --list "$partial" >/dev/null
mv "$partial" "$dump"

# Retention: the timestamp sorts as text, so the oldest dumps of this database come first.
mapfile -t dumps < <(find "$backup_dir" -maxdepth 1 -type f -name "$PGDATABASE-*.dump" -printf '%f\n' | sort)
excess=$((${#dumps[@]} - keep))
for ((i = 0; i < excess; i++)); do
  old=${dumps[i]%.dump}
  rm -f "$backup_dir/$old.dump"
  echo "backup: removed $old (keeping the newest $keep)" >&2
done

echo "backup: $(du -h "$dump" | cut -f1) written" >&2
echo "$dump"
