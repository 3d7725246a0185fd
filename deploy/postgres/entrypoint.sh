#!/bin/sh
# Entrypoint of the hollerith-postgres image (deploy/build-images.sh --postgres): Debian's
# PostgreSQL 15 as the job store of deploy/docker-compose.ha.yml. It starts as root only to read
# the password file (a libpq password file owned by the coordinators' uid 10001, mode 0600:
# deploy/make-pgpass.sh; the password is the 5th field of its first line) and to own the data
# dir; initdb and the server run as `postgres`. At the first start (no PG_VERSION in the data
# dir): initdb with scram-sha-256, the role HOLLERITH_DB_USER (default hollerith) with that
# password and the database HOLLERITH_DB (default hollerith) it owns. The superuser `postgres`
# has no password: it logs in on the container's Unix socket only (peer). Over TCP, every role
# needs its password, from addresses on the container's own networks only (samenet). Later
# starts leave the database and the password as they are (change it with ALTER ROLE).
# shellcheck disable=SC2016  # su -c 'exec "$0" "$@"': expanded by su's shell, on purpose
set -eu
bin=/usr/lib/postgresql/15/bin
data=${PGDATA:-/var/lib/postgresql/data}
pgpass=${HOLLERITH_PGPASS:-/etc/hollerith/pgpass}
db=${HOLLERITH_DB:-hollerith}
role=${HOLLERITH_DB_USER:-hollerith}
say() { echo "hollerith-postgres: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
  as_postgres() { su -s /bin/sh postgres -c 'exec "$0" "$@"' -- "$@"; }
  mkdir -p "$data" /var/run/postgresql
  chown postgres:postgres "$data" /var/run/postgresql
  chmod 0700 "$data"
else
  as_postgres() { "$@"; }
fi

if [ ! -s "$data/PG_VERSION" ]; then
  [ -r "$pgpass" ] || { say "no password file at $pgpass (deploy/make-pgpass.sh)"; exit 2; }
  # The password field of the first entry, with libpq's escapes (\: and \\) undone.
  password=$(awk '!/^[[:space:]]*#/ && NF {
      field = 1; out = ""
      for (i = 1; i <= length($0); i++) {
        c = substr($0, i, 1)
        if (c == "\\" && i < length($0)) { i++; c = substr($0, i, 1) }
        else if (c == ":" && field < 5) { field++; continue }
        if (field == 5) out = out c
      }
      print out; exit }' "$pgpass")
  [ -n "$password" ] || { say "$pgpass has no entry with a password (HOST:PORT:DB:USER:PASSWORD)"; exit 2; }
  say "initializing $data: database $db, role $role"
  # Its output only when it failed (the image has no system locales and says so).
  if ! as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/tmp/initdb.log 2>&1; then
    cat /tmp/initdb.log >&2
    exit 1
  fi
  cat > "$data/pg_hba.conf" <<HBA
# TYPE  DATABASE  USER  ADDRESS  METHOD   (written by hollerith-postgres at initdb)
local   all       all            peer
host    all       all   samenet  scram-sha-256
HBA
  # Single-user mode reads the statements from stdin: the password is in no command line.
  # Identifiers are quoted; a quote in the password is doubled.
  quoted=$(printf '%s' "$password" | sed "s/'/''/g")
  printf '%s\n' "CREATE ROLE \"$role\" LOGIN PASSWORD '$quoted';" \
    "CREATE DATABASE \"$db\" OWNER \"$role\";" |
    as_postgres "$bin/postgres" --single -D "$data" -c jit=off -c log_min_messages=warning \
      -c log_statement=none postgres >/dev/null
  unset password quoted
fi

# listen_addresses=*: the container's own interfaces (the compose file publishes no port).
# jit=off: the image has no LLVM. Arguments given to the image are added.
set -- -D "$data" -c 'listen_addresses=*' -c jit=off \
  -c unix_socket_directories=/var/run/postgresql "$@"
if [ "$(id -u)" = 0 ]; then
  exec su -s /bin/sh postgres -c 'exec "$0" "$@"' -- "$bin/postgres" "$@"
fi
exec "$bin/postgres" "$@"
