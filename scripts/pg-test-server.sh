#!/usr/bin/env bash
# A throwaway PostgreSQL server for the platform store's tests.
#
#   eval "$(scripts/pg-test-server.sh start)"   # prints the exports of the server it started
#   scripts/pg-test-server.sh env                # prints them again
#   scripts/pg-test-server.sh stop               # stops it and removes its directory
#
# `start` installs PostgreSQL with apt-get when `initdb` is missing, makes a cluster with
# initdb in a temporary directory (outside the source tree), a test CA and a server
# certificate for localhost and 127.0.0.1 made with openssl, and starts the server with
# pg_ctl on a unix socket in that directory and on a free loopback port with ssl=on.
# The exports:
#
#   GOVDATA_TEST_PG          superuser URL over the unix socket
#   GOVDATA_TEST_PG_HOST     127.0.0.1
#   GOVDATA_TEST_PG_PORT     the loopback port (TLS)
#   GOVDATA_TEST_PG_CA       the test CA's certificate (PEM)
#   GOVDATA_TEST_PG_DIR      the cluster's directory (socket, data, certificates)
#   GOVDATA_TEST_PG_CTL      the pg_ctl command that stops and starts it (tests that
#                            stop the server mid-stream use it)
#
# The server runs as the `postgres` user when the caller is root (initdb refuses root).
set -euo pipefail

state_file="${GOVDATA_TEST_PG_STATE:-${TMPDIR:-/tmp}/govdata-pg-test.$(id -u).state}"

find_bin() {
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then
      echo "$d"
      return
    fi
  done
}

install_pg() {
  echo "== installing postgresql" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql openssl >&2
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

make_certs() {
  local dir=$1
  (
    cd "$dir"
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 2 \
      -subj "/CN=govdata test CA" -keyout ca.key -out ca.crt >/dev/null 2>&1
    openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=localhost" \
      -keyout server.key -out server.csr >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -days 2 -sha256 -extfile server.ext -out server.crt >/dev/null 2>&1
    chmod 600 server.key ca.key
  )
}

print_env() {
  cat "$state_file"
}

start() {
  if [ -f "$state_file" ]; then
    # shellcheck disable=SC1090
    . <(sed 's/^export //' "$state_file")
    if [ -n "${GOVDATA_TEST_PG_DIR:-}" ] && [ -d "$GOVDATA_TEST_PG_DIR" ]; then
      print_env
      return
    fi
    rm -f "$state_file"
  fi
  local bin
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    install_pg
    bin=$(find_bin)
  fi
  [ -n "$bin" ] || { echo "pg-test-server: no initdb after installing postgresql" >&2; exit 1; }
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/govdata-pg.XXXXXX")
  chmod 755 "$dir"
  port=$(free_port)
  make_certs "$dir"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
ssl_ca_file = '$dir/ca.crt'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
  # Over TCP only TLS with a password; the socket trusts (the test superuser).
  cat >"$dir/data/pg_hba.conf" <<EOF
local   all   all                   trust
hostssl all   all   127.0.0.1/32    scram-sha-256
hostnossl all all   127.0.0.1/32    scram-sha-256
EOF
  local ctl="$bin/pg_ctl -D $dir/data -l $dir/server.log -w"
  if [ "$(id -u)" = 0 ]; then ctl="runuser -u postgres -- $ctl"; fi
  $ctl start >/dev/null
  cat >"$state_file" <<EOF
export GOVDATA_TEST_PG='postgresql://postgres@/postgres?host=$dir&port=$port'
export GOVDATA_TEST_PG_HOST=127.0.0.1
export GOVDATA_TEST_PG_PORT=$port
export GOVDATA_TEST_PG_CA=$dir/ca.crt
export GOVDATA_TEST_PG_DIR=$dir
export GOVDATA_TEST_PG_CTL='$ctl'
EOF
  print_env
}

stop() {
  [ -f "$state_file" ] || return 0
  # shellcheck disable=SC1090
  . <(sed 's/^export //' "$state_file")
  if [ -n "${GOVDATA_TEST_PG_CTL:-}" ]; then
    $GOVDATA_TEST_PG_CTL stop -m immediate >/dev/null 2>&1 || true
  fi
  case "${GOVDATA_TEST_PG_DIR:-}" in
    "${TMPDIR:-/tmp}"/govdata-pg.*) rm -rf "$GOVDATA_TEST_PG_DIR" ;;
  esac
  rm -f "$state_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
