#!/usr/bin/env bash
# Makes the secrets docker/compose.yaml mounts, in docker/secrets/ (git and the image build ignore
# it): an operator token for the lock API and the paging-link key the replicas share. An existing
# file is kept. Needs openssl.
#   docker/make-secrets.sh [OPERATOR_NAME]      (default: the current user)
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
operator=${1:-${USER:-operator}}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
if [ ! -s "$dir/admin-tokens" ]; then
  # one "NAME TOKEN" line per operator; add a line per person (the NAME goes into the audit trail)
  echo "$operator $(openssl rand -hex 32)" >"$dir/admin-tokens"
  echo "wrote $dir/admin-tokens (operator $operator)"
fi
if [ ! -s "$dir/paging-key" ]; then
  openssl rand -base64 48 >"$dir/paging-key"
  echo "wrote $dir/paging-key"
fi
# compose mounts secret files into the containers with the files' own mode; the image's user
# (uid 10001) must be able to read them.
chmod 644 "$dir/admin-tokens" "$dir/paging-key"
