#!/usr/bin/env bash
# Builds the images hollerith-coordinator:VERSION and hollerith-worker:VERSION (and :latest) from a
# build directory, with no registry: a root filesystem is assembled from the built binaries
# (stripped), the shared libraries they link (ldd), CA certificates and busybox-static (so cards
# have /bin/sh, awk, seq, ...), then `docker import`ed as hollerith-base:VERSION; each role is a
# two-line `docker build` FROM it (shared layer, no pull). Images run as user hollerith (10001).
# --postgres also builds hollerith-postgres:VERSION for deploy/docker-compose.ha.yml the same way,
# from this machine's PostgreSQL 15 (Debian's postgresql, installed with apt-get if missing):
# its server, initdb, pg_isready, psql, pg_dump, their libraries and busybox, with
# deploy/postgres/entrypoint.sh; no password or data in the image.
# Usage: deploy/build-images.sh [--postgres] [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
with_postgres=""
if [[ "${1:-}" == --postgres ]]; then with_postgres=1; shift; fi
build=${1:-build}
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n "$version" ]] || { echo "no project version in $build/CMakeCache.txt (configure first)" >&2; exit 2; }
bins=("$build/coordinator/hollerith-coordinator" "$build/worker/hollerith-worker" "$build/cli/hollerith")
for b in "${bins[@]}"; do
  [[ -x "$b" ]] || { echo "missing $b: build first (scripts/build.sh)" >&2; exit 2; }
done
busybox=$(command -v busybox || true)
if [[ -z "$busybox" ]] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  busybox=/bin/busybox
fi
[[ -x "$busybox" ]] || { echo "busybox-static is missing (apt-get install busybox-static)" >&2; exit 2; }
pg=/usr/lib/postgresql/15
if [[ -n "$with_postgres" && ! -x "$pg/bin/postgres" ]]; then
  echo "installing postgresql (Debian's PostgreSQL 15)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

root=$(mktemp -d /tmp/hollerith-rootfs.XXXXXX)
ctx=$(mktemp -d /tmp/hollerith-image.XXXXXX)
pgroot=""
trap 'rm -rf "$root" "$ctx" ${pgroot:+"$pgroot"}' EXIT
mkdir -p "$root"/{bin,usr/bin,etc/hollerith,etc/ssl/certs,tmp,var/lib/hollerith,work}
chmod 1777 "$root/tmp"
for b in "${bins[@]}"; do
  strip --strip-unneeded -o "$root/usr/bin/$(basename "$b")" "$b"
done
# Every shared library the binaries need, at the path the loader looks for it.
copy_libs() {  # ROOT BINARY...
  local to=$1 lib b; shift
  for lib in $(for b in "$@"; do ldd "$b"; done |
               awk '/=>/ && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u); do
    [[ -e "$to$lib" ]] && continue
    mkdir -p "$to$(dirname "$lib")"
    cp -L "$lib" "$to$lib"
    strip --strip-unneeded "$to$lib" 2>/dev/null || true
  done
}
add_busybox() {  # ROOT
  local applet
  cp "$busybox" "$1/bin/busybox"
  for applet in $("$1/bin/busybox" --list); do
    [[ -e "$1/bin/$applet" || -e "$1/usr/bin/$applet" ]] || ln -s busybox "$1/bin/$applet"
  done
}
copy_libs "$root" "${bins[@]}"
add_busybox "$root"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
hollerith:x:10001:10001:hollerith:/work:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
hollerith:x:10001:
nogroup:x:65534:
GROUP
echo "hosts: files dns" > "$root/etc/nsswitch.conf"
chown -R 10001:10001 "$root/var/lib/hollerith" "$root/work"

tar -C "$root" --numeric-owner -cf - . |
  docker import --change "LABEL org.opencontainers.image.version=$version" - "hollerith-base:$version" >/dev/null
for role in coordinator worker; do
  case $role in
    # The container's network is private (publish the port on loopback); across machines
    # replace --insecure-plaintext by --tls-cert/--tls-key/--tls-ca.
    coordinator) cmd='["--listen", "0.0.0.0:7070", "--data-dir", "/var/lib/hollerith", "--insecure-plaintext"]' ;;
    worker) cmd='["--work-dir", "/work"]' ;;
  esac
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM hollerith-base:$version
ENV PATH=/usr/bin:/bin
USER 10001:10001
WORKDIR /work
LABEL org.opencontainers.image.title="hollerith-$role" org.opencontainers.image.version="$version"
ENTRYPOINT ["/usr/bin/hollerith-$role"]
CMD $cmd
DOCKERFILE
  if ! docker build -q -t "hollerith-$role:$version" -t "hollerith-$role:latest" "$ctx" \
      >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    exit 1
  fi
  size=$(docker image inspect -f '{{.Size}}' "hollerith-$role:$version")
  echo "hollerith-$role:$version ($((size / 1024 / 1024)) MiB)"
done

[[ -n "$with_postgres" ]] || exit 0
# hollerith-postgres: Debian's PostgreSQL 15 at its own paths (initdb and the server find their
# share/ and lib/ relative to bin/). Without LLVM (no JIT: the entrypoint sets jit=off).
pgroot=$(mktemp -d /tmp/hollerith-pgroot.XXXXXX)
mkdir -p "$pgroot"/{bin,usr/bin,usr/local/bin,usr/share,etc/hollerith,tmp,var/run/postgresql} \
  "$pgroot/var/lib/postgresql/data" "$pgroot$pg/bin" "$pgroot/usr/share/postgresql"
chmod 1777 "$pgroot/tmp"
pgbins=()
for b in postgres initdb pg_isready psql pg_dump pg_dumpall; do
  strip --strip-unneeded -o "$pgroot$pg/bin/$b" "$pg/bin/$b"
  ln -s "$pg/bin/$b" "$pgroot/usr/bin/$b"
  pgbins+=("$pg/bin/$b")
done
tar -C "$pg" --exclude='llvmjit*' --exclude=bitcode -cf - lib | tar -C "$pgroot$pg" -xf -
cp -a /usr/share/postgresql/15 "$pgroot/usr/share/postgresql/"
rm -rf "$pgroot/usr/share/postgresql/15/man"
cp -a /usr/share/zoneinfo "$pgroot/usr/share/"  # the server's time zones (--with-system-tzdata)
copy_libs "$pgroot" "${pgbins[@]}" "$pgroot$pg"/lib/*.so
add_busybox "$pgroot"
install -m 0755 deploy/postgres/entrypoint.sh "$pgroot/usr/local/bin/hollerith-postgres"
cat > "$pgroot/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
postgres:x:10002:10002:PostgreSQL:/var/lib/postgresql:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$pgroot/etc/group" <<'GROUP'
root:x:0:
postgres:x:10002:
nogroup:x:65534:
GROUP
echo "hosts: files dns" > "$pgroot/etc/nsswitch.conf"
chown -R 10002:10002 "$pgroot/var/lib/postgresql" "$pgroot/var/run/postgresql"
chmod 0700 "$pgroot/var/lib/postgresql/data"
pgversion=$("$pg/bin/postgres" --version | awk '{print $3}')
tar -C "$pgroot" --numeric-owner -cf - . |
  docker import - "hollerith-postgres-base:$version" >/dev/null
# Starts as root (the entrypoint reads the password file, then runs everything as postgres);
# SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM hollerith-postgres-base:$version
ENV PATH=/usr/bin:/bin PGDATA=/var/lib/postgresql/data TZ=UTC
LABEL org.opencontainers.image.title="hollerith-postgres" org.opencontainers.image.version="$version" \\
      org.postgresql.version="$pgversion"
EXPOSE 5432
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/hollerith-postgres"]
DOCKERFILE
if ! docker build -q -t "hollerith-postgres:$version" -t hollerith-postgres:latest "$ctx" \
    >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2
  exit 1
fi
size=$(docker image inspect -f '{{.Size}}' "hollerith-postgres:$version")
echo "hollerith-postgres:$version (PostgreSQL $pgversion, $((size / 1024 / 1024)) MiB)"
