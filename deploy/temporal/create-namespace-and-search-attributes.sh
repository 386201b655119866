#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-setup, image temporalio/admin-tools): once
# the server answers, creates the namespace the workers use and the billing search attributes
# (BILLING_SEARCH_ATTRIBUTES: NAME=Type ..., the list of workflows/messages.ts), each only when
# missing. Safe to run again. test/integration/compose-setup.test.ts runs it with the pinned
# temporal CLI against a dev server.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS (host:port of the Temporal frontend) is required}"
: "${BILLING_SEARCH_ATTRIBUTES:?BILLING_SEARCH_ATTRIBUTES (NAME=Type ...) is required}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
ATTEMPTS="${TEMPORAL_SETUP_ATTEMPTS:-60}"

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "Temporal at $TEMPORAL_ADDRESS is not serving after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "created namespace $NAMESPACE (retention $RETENTION)"
fi

# A namespace just created is served once the frontend's namespace cache has it (seconds).
attempt=1
until existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" 2>&1); do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "$existing" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
for attribute in $BILLING_SEARCH_ATTRIBUTES; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  if echo "$existing" | grep -qw -- "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type"
    echo "created search attribute $name ($type)"
  fi
done
