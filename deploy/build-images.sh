#!/usr/bin/env bash
# Builds the images hollerith-coordinator:VERSION and hollerith-worker:VERSION (and :latest) from a
# build directory, with no registry: a root filesystem is assembled from the built binaries
# (stripped), the shared libraries they link (ldd), CA certificates and busybox-static (so cards
# have /bin/sh, awk, seq, ...), then `docker import`ed as hollerith-base:VERSION; each role is a
# two-line `docker build` FROM it (shared layer, no pull). Images run as user hollerith (10001).
# Usage: deploy/build-images.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
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

root=$(mktemp -d /tmp/hollerith-rootfs.XXXXXX)
ctx=$(mktemp -d /tmp/hollerith-image.XXXXXX)
trap 'rm -rf "$root" "$ctx"' EXIT
mkdir -p "$root"/{bin,usr/bin,etc/hollerith,etc/ssl/certs,tmp,var/lib/hollerith,work}
chmod 1777 "$root/tmp"
for b in "${bins[@]}"; do
  strip --strip-unneeded -o "$root/usr/bin/$(basename "$b")" "$b"
done
# Every shared library the binaries need, at the path the loader looks for it.
for lib in $(for b in "${bins[@]}"; do ldd "$b"; done |
             awk '/=>/ && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  strip --strip-unneeded "$root$lib" 2>/dev/null || true
done
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [[ -e "$root/bin/$applet" || -e "$root/usr/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
done
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
