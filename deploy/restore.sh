#!/usr/bin/env bash
# Restores a dump made by backup.sh. THE TARGET DATABASE IS DROPPED AND RECREATED: stop the worker and the API first.
#
#   restore.sh [--yes] [--into NAME] DUMP
#
#   (default)        drops the database the dump was taken from and recreates it exactly as dumped: owner,
#                    database-level grants, schema, rows, table grants and default privileges
#   --into NAME      restores into database NAME instead (dropped first if it exists), e.g. to inspect a backup
#                    beside the live database; it gets the dump's owner, schema, rows and table grants, but only its
#                    owner may connect to it (no CONNECT for the application's roles)
#   --yes            required: without it nothing is touched and the plan is printed
#
# Documents are rows of the database (document_blobs): they come back with it.
#
# Connection: PGHOST, PGPORT, PGUSER and PGPASSWORD (or PGPASSWORD_FILE), as a role that may drop and create the
# database and set its owner: the postgres superuser in the compose stack. RESTORE_MAINTENANCE_DB (default postgres)
# is where it connects while the target does not exist. PG_BIN: directory of psql and pg_restore if not on PATH.
set -euo pipefail

usage() {
  # The header above is the help.
  sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}

yes=false
into=
dump=
while (($#)); do
  case $1 in
    --yes) yes=true ;;
    --into) into=${2:?--into needs a database name}; shift ;;
    -h | --help) usage ;;
    -*) echo "restore: unknown option $1" >&2; usage ;;
    *) [[ -z $dump ]] || usage; dump=$1 ;;
  esac
  shift
done
[[ -n $dump ]] || usage

bin=${PG_BIN:+$PG_BIN/}
maintenance=${RESTORE_MAINTENANCE_DB:-postgres}
if [[ -n ${PGPASSWORD_FILE:-} ]]; then
  PGPASSWORD=$(<"$PGPASSWORD_FILE")
  export PGPASSWORD
fi

# Everything is checked before anything is dropped.
# --create lists the database's own entry too, which names its owner.
if ! toc=$("${bin}pg_restore" --list --create "$dump" 2>&1); then
  echo "restore: $dump is not a readable pg_dump archive: $toc" >&2
  exit 1
fi
source_db=$(sed -n 's/^;[[:space:]]*dbname: //p' <<<"$toc" | head -n 1)
# "<id>; 1262 <oid> DATABASE - <name> <owner>"
owner=$(awk -v db="$source_db" '$4 == "DATABASE" && $5 == "-" && $6 == db { print $7; exit }' <<<"$toc")
target=${into:-$source_db}
for name in "$source_db" "$target" "$owner"; do
  if ! [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "restore: unexpected database or role name '$name' in $dump" >&2
    exit 1
  fi
done

# Quiet: DROP DATABASE IF EXISTS would otherwise print a NOTICE for a database that is not there.
psql=(env "PGOPTIONS=-c client_min_messages=warning"
  "${bin}psql" -v ON_ERROR_STOP=1 --no-psqlrc -q -X --no-password --dbname "$maintenance")
exists=$("${psql[@]}" -At -v db="$target" <<<"SELECT count(*) FROM pg_database WHERE datname = :'db'")

echo "restore: $dump (database $source_db, owner $owner)" >&2
echo "restore: into database $target on ${PGHOST:-the local server}:${PGPORT:-5432}" >&2
if [[ $exists != 0 ]]; then
  sessions=$("${psql[@]}" -At -v db="$target" <<<"SELECT count(*) FROM pg_stat_activity WHERE datname = :'db'")
  echo "restore: WARNING: $target exists and will be DROPPED with everything written since the dump" >&2
  echo "restore: WARNING: $sessions session(s) connected to it now will be cut off" >&2
fi
if [[ $yes != true ]]; then
  echo "restore: nothing done; run again with --yes to go ahead" >&2
  exit 2
fi

"${psql[@]}" -v db="$target" <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE)'
if [[ -z $into ]]; then
  # --create recreates the database as it was dumped, its owner and database-level grants included.
  "${bin}pg_restore" --no-password --exit-on-error --create --dbname "$maintenance" "$dump"
else
  "${psql[@]}" -v db="$target" -v owner="$owner" <<'SQL'
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
  "${bin}pg_restore" --no-password --exit-on-error --single-transaction --dbname "$target" "$dump"
fi
echo "restore: database $target restored" >&2
