#!/usr/bin/env bash
# Creates deploy/secrets/token (a random 32-byte hex token) unless it exists, readable only by its
# owner: uid 10001, the `hollerith` user of the images (root on the host can read it too).
# Usage: deploy/make-token.sh [PATH]
set -euo pipefail
cd "$(dirname "$0")"
source ./secret-file.sh
write_secret token "${1:-secrets/token}" "$(random_hex)"
