#!/usr/bin/env bash
# OpenStack Swift with its S3 API (s3api + tempauth), from Debian's packages, for tests that
# need real SigV4 checks (s3rver does not verify signatures). Everything lives under DIR and
# swift_dir=DIR, so nothing is written to /etc. Ports used: PORT (proxy), PORT+10..12 (account,
# container, object servers), PORT+20 (memcached, which tempauth needs).
#   scripts/test-services/swift.sh start DIR PORT   # returns once /healthcheck answers
#   scripts/test-services/swift.sh stop DIR
# S3 settings: endpoint http://127.0.0.1:PORT, region us-east-1, path style,
# access key "test:tester", secret "testing". The packages are the Debian ones .ci/run installs.
set -euo pipefail

cmd=${1:-}; S=${2:-}
[ -n "$cmd" ] && [ -n "$S" ] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

stop() {
  [ -d "$S/run" ] || return 0
  local pids=() f pid alive
  for f in "$S"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # Each server was started in its own session (setsid), so its workers go with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    rm -f "$f"
  done
  # Wait until they are gone, so their ports are free when this returns.
  for _ in $(seq 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }
PORT=${3:?PORT required}

for bin in swift-ring-builder swift-proxy-server swift-account-server swift-container-server swift-object-server memcached curl; do
  command -v "$bin" >/dev/null || { echo "swift.sh: $bin not installed (apt-get install swift swift-proxy swift-account swift-container swift-object memcached curl)" >&2; exit 3; }
done

mkdir -p "$S/srv/d1" "$S/run" "$S/log"
cd "$S"
# The object server keeps metadata in user xattrs; without them every PUT fails with a 503.
if ! python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.swift-probe", b"1")' "$S/srv/d1" 2>/dev/null; then
  echo "swift.sh: the file system of $S has no user xattrs (Swift needs them); point TMPDIR at a disk-backed directory" >&2
  exit 3
fi
printf '[swift-hash]\nswift_hash_path_suffix = t\nswift_hash_path_prefix = t\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' > swift.conf

i=0
for r in object container account; do
  if [ ! -e "$r.ring.gz" ]; then
    swift-ring-builder "$r.builder" create 6 1 0 >/dev/null
    swift-ring-builder "$r.builder" add "r1z1-127.0.0.1:$((PORT + 10 + i))/d1" 1 >/dev/null
    swift-ring-builder "$r.builder" rebalance >/dev/null || true
  fi
  printf '[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %s\ndevices = %s/srv\nmount_check = false\nswift_dir = %s\nworkers = 0\nlog_level = WARNING\n[pipeline:main]\npipeline = %s-server\n[app:%s-server]\nuse = egg:swift#%s\n' \
    $((PORT + 10 + i)) "$S" "$S" $r $r $r > $r-server.conf
  i=$((i + 1))
done

cat > proxy-server.conf <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PORT
swift_dir = $S
workers = 0
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$((PORT + 20))

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF

stop # leftovers of an earlier run in the same DIR
setsid memcached -u "$(id -un)" -l 127.0.0.1 -p $((PORT + 20)) -m 32 >"$S/log/memcached.log" 2>&1 &
echo $! > run/memcached.pid
for s in account container object proxy; do
  setsid "swift-$s-server" "$S/$s-server.conf" >"$S/log/$s.log" 2>&1 &
  echo $! > "run/$s.pid"
done

# Wait for the proxy (the tests then retry their first S3 call until the backends accept it).
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$PORT/healthcheck" >/dev/null; do
  for f in run/*.pid; do
    kill -0 "$(cat "$f")" 2>/dev/null || { echo "swift.sh: $(basename "$f" .pid) exited; its log:" >&2; tail -20 "$S/log/$(basename "$f" .pid).log" >&2; stop; exit 1; }
  done
  [ $SECONDS -lt $deadline ] || { echo "swift.sh: no /healthcheck on port $PORT after 60 s" >&2; stop; exit 1; }
  sleep 0.1
done
echo "swift s3api on http://127.0.0.1:$PORT"
