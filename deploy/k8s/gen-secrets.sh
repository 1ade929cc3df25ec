#!/usr/bin/env sh
# Writes random secrets for deploy/k8s/base/secrets/ (the files the kustomize secretGenerators
# read). Existing files are kept unless --force is given, so re-running never rotates a live
# secret by accident. users.txt starts empty: add `user:realm:ha1md5:ha1sha256` lines.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)/base/secrets"
force=no
case "${1:-}" in
  "") ;;
  --force) force=yes ;;
  *) echo "usage: $0 [--force]   (--force overwrites existing secret files)" >&2; exit 2 ;;
esac

rand() {
  # 32 characters from the kernel CSPRNG: a letter, then [A-Za-z0-9]. nats-server parses the
  # value of a $VARIABLE as configuration, so a password must start with a letter (a leading
  # digit reads as a number) and hold no quotes, spaces or punctuation.
  LC_ALL=C tr -dc 'A-Za-z' </dev/urandom | head -c 1
  LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 31
}

write() {
  file="$dir/$1"
  if [ -e "$file" ] && [ "$force" = no ]; then
    echo "kept    $file"
    return
  fi
  umask 077
  cat >"$file"
  echo "written $file"
}

mkdir -p "$dir"
write nats-users.env <<EOT
transport=$(rand)
ua=$(rand)
fsshim=$(rand)
tools=$(rand)
sys=$(rand)
EOT
write sipnats.env <<EOT
routing-secret=$(rand)
auth-secret=$(rand)
EOT
write users.txt <<EOT
# user:realm:ha1md5:ha1sha256 (HA1 = hash of "user:realm:password"); realm as SIPNATS_REALM
EOT
