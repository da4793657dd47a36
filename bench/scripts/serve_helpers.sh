# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the bench scripts that run `stride serve` on loopback.

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until the server on PORT answers /v1/health, for at most SECONDS (default 10).
# Returns non-zero when it never did.
wait_for_stride() {
  local port=$1 deadline=$((SECONDS + ${2:-10}))
  until curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "stride serve on port $port did not answer /v1/health in ${2:-10} s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# Installs the Debian packages of the given commands that are missing (wrk, haproxy, ...).
ensure_tools() {
  local tool sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  for tool in "$@"; do
    command -v "$tool" >/dev/null || $sudo apt-get install -y -qq "$tool" >/dev/null
  done
}
