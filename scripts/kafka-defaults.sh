#!/usr/bin/env bash
# Runs the whole catalog against an embedded stack configured as Apache
# Kafka ships (stack --profile kafka-defaults: 6 s classic session floor,
# 45 s KIP-848 session), used as an external cluster through
# OFFSETLAB_BOOTSTRAP, exactly as a real cluster would be: stories that need
# the embedded stack are skipped, and every other one must pass.
# Usage: scripts/kafka-defaults.sh BIN [scenarios run flags...]
set -euo pipefail
bin=$1
shift
log=$(mktemp)
"$bin/stack" --profile kafka-defaults --broker 127.0.0.1:0 --registry 127.0.0.1:0 >"$log" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null; wait $stack 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q '^ready:' "$log" && break
  kill -0 $stack 2>/dev/null || { cat "$log" >&2; exit 69; }
  sleep 0.1
done
ready=$(grep '^ready:' "$log") || { echo "the stack did not say it was ready within 10s" >&2; cat "$log" >&2; exit 69; }
# ready: broker 127.0.0.1:PORT, schema registry http://127.0.0.1:PORT
broker=$(sed -E 's/^ready: broker ([^,]+),.*/\1/' <<<"$ready")
registry=$(sed -E 's/.*schema registry ([^ ]+).*/\1/' <<<"$ready")
echo "Kafka's defaults: broker $broker, schema registry $registry" >&2
OFFSETLAB_BOOTSTRAP=$broker OFFSETLAB_REGISTRY=$registry "$bin/scenarios" run "$@"
