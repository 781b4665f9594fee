#!/bin/sh
# The deployment half of `make demo`: plan, apply with confirmation, lose the CLI, watch the
# watchdog restore the old generation, apply again, roll back to the start. All of it in a
# scratch network namespace (fbt-demo-*) standing for the VM; the root namespace is never touched.
set -eu
FIREBREAK=${1:-.build/release/firebreak}
NS=fbt-demo-$$
STATE=$(mktemp -d /tmp/fbt-demo-state.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$STATE"; }
trap cleanup EXIT
ip netns add "$NS"
fb() { "$FIREBREAK" "$@" --netns "$NS" --state-dir "$STATE"; }
export SSH_CONNECTION="192.0.2.10 50000 10.0.0.1 22"

echo "-- plan Rules/server.policy (as if over SSH from 192.0.2.10)"
fb plan Rules/server.policy
echo "-- apply --confirm 2, and do not confirm"
fb apply --confirm 2 Rules/server.policy | tail -2
fb status
pid=$(sed -n 's/.*"watchdogPID":\([0-9]*\).*/\1/p' "$STATE/current.json")
while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do sleep 0.2; done
echo "-- after the deadline: the watchdog restored generation 0"
cat "$STATE/watchdog.log"
fb status
echo "-- apply the router, then the server, and roll back to the start"
fb apply Rules/router.policy | tail -1
fb apply Rules/server.policy | tail -1
fb history
fb rollback --to 0
ip netns exec "$NS" nft list ruleset
