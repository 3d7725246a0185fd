# Sourced by make-token.sh and make-pgpass.sh (not run): writes a secret file for the images.
# write_secret LABEL PATH TEXT: creates PATH with TEXT unless it exists, readable only by its
# owner: uid 10001, the `hollerith` user of the images (root on the host can read it too).
random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
write_secret() {
  local label=$1 path=$2 text=$3
  if [[ -s "$path" ]]; then
    echo "$label: $path (kept)"
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  (umask 077 && printf '%s\n' "$text" > "$path")
  chown 10001:10001 "$path" 2>/dev/null || echo "warning: cannot chown $path to 10001 (run as root)" >&2
  chmod 0600 "$path"
  echo "$label: $path (created)"
}
