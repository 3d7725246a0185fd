#!/usr/bin/env bash
# Creates deploy/secrets/pgpass unless it exists: a libpq password file (HOST:PORT:DB:USER:PASSWORD)
# for the role hollerith of the database hollerith, on any host and port, with a random 32-byte
# hex password, readable only by its owner: uid 10001, the `hollerith` user of the images (root on
# the host can read it too). The coordinators of deploy/docker-compose.ha.yml log in with it
# (--store-passfile) and the hollerith-postgres image sets the role's password from it at its
# first start; it is never in an image. For Kubernetes, make the Secret from it
# (deploy/kubernetes/ha/pgpass-secret.yaml).
# Usage: deploy/make-pgpass.sh [PATH]
set -euo pipefail
cd "$(dirname "$0")"
source ./secret-file.sh
write_secret pgpass "${1:-secrets/pgpass}" "*:*:hollerith:hollerith:$(random_hex)"
