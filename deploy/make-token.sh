#!/usr/bin/env bash
# Creates deploy/secrets/token (a random 32-byte hex token) unless it exists, readable only by its
# owner: uid 10001, the `hollerith` user of the images (root on the host can read it too).
# Usage: deploy/make-token.sh [PATH]
set -euo pipefail
cd "$(dirname "$0")"
path=${1:-secrets/token}
if [[ -s "$path" ]]; then
  echo "token: $path (kept)"
  exit 0
fi
mkdir -p "$(dirname "$path")"
umask 077
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$path"
echo >> "$path"
chown 10001:10001 "$path" 2>/dev/null || echo "warning: cannot chown $path to 10001 (run as root)" >&2
chmod 0600 "$path"
echo "token: $path (created)"
