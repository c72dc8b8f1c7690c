#!/bin/sh
# The temporal-namespace job (temporalio/admin-tools): the namespace the application uses, with an explicit retention
# of closed workflows, and the search attributes the workflows set (workflows/search-attributes.ts; the compose test
# checks the two lists match). Idempotent: a changed NAMESPACE_RETENTION is applied at the next `docker compose up`.
# The temporal CLI reads TEMPORAL_ADDRESS and, under deploy/compose.tls.yml, its TEMPORAL_TLS_* variables.
# POSIX sh, without pipefail: the admin-tools image has no bash, and the one pipeline below is judged by its grep.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}" "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"
retention=${NAMESPACE_RETENTION:-30d}

# The server's port opens before it serves: wait for SERVING.
attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-namespace: $TEMPORAL_ADDRESS is not serving after $attempt attempts" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1
then
  temporal operator namespace update --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$retention"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$retention"
fi

# Registering an attribute that exists with the same type succeeds, so this runs every time.
attempt=0
until temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
  --name ApplicationState --type Keyword \
  --name ApplicationThemes --type KeywordList \
  --name ImplementingBody --type Keyword \
  --name CallId --type Keyword \
  --name RequestedCents --type Int \
  --name AdmittedCents --type Int \
  --name DeadlineAt --type Datetime \
  --name ProjectState --type Keyword; do
  # A namespace just created takes a moment to reach every service.
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "temporal-namespace: search attributes not registered after $attempt attempts" >&2
    exit 1
  fi
  sleep 2
done
echo "temporal-namespace: $TEMPORAL_NAMESPACE ready, retention $retention, search attributes registered"
