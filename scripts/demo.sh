#!/usr/bin/env bash
# make demo: produce -> consume in a group -> committed offsets, on the
# embedded stack (or on whatever already listens on 9092/8081).
set -euo pipefail
bin=${1:-bin}
topic=demo-orders
group=demo-$(date +%H%M%S)

# Bold only on a terminal: piped or logged output stays plain text.
if [[ -t 1 ]]; then say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else say() { printf '\n== %s\n' "$*"; }; fi
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stack_pid=
cleanup() { if [[ -n $stack_pid ]]; then kill "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

if listening 9092; then
  say "A broker already listens on 127.0.0.1:9092: the demo uses it (embedded stack or docker compose)."
else
  say "Starting the embedded stack: a Kafka-compatible broker on 127.0.0.1:9092 and a schema registry on 127.0.0.1:8081, in one process."
  log=$(mktemp)
  "$bin/stack" >"$log" 2>&1 &
  stack_pid=$!
  for _ in $(seq 100); do grep -q '^ready' "$log" && break; kill -0 "$stack_pid" 2>/dev/null || { cat "$log"; exit 1; }; sleep 0.1; done
  grep '^ready' "$log" || { echo "the stack did not get ready within 10s"; cat "$log"; exit 1; }
fi

say "Producing 300 orders to '$topic': the schema is registered under $topic-value, each record is Avro in the Confluent wire format, stamped with a run id and a sequence number, and keyed by customerid so that each customer stays in one partition."
"$bin/producer" --topic "$topic" --count 300 --seed 42 --key-field customerid

say "Consuming them in the new group '$group' with --reset earliest: a group with no committed offset starts where its reset policy says, here the log start. First records:"
"$bin/consumer" --topic "$topic" --group "$group" --reset earliest --idle-exit 3s --ledger "${TMPDIR:-/tmp}/$group.ledger" \
  --session-timeout 1s --heartbeat-interval 200ms 2>&1 | sed -n '1,6p;/^consumed/p;/^TOPIC/,/^position/p'

say "What the broker now holds for the group, as the AdminClient reports it: the committed offset is the NEXT offset to read, so it equals the partition's log end once everything was consumed, and the lag is 0."
"$bin/offsets" describe --group "$group"

if [[ -n $stack_pid ]]; then
  next="the demo's stack stops with it, so start one that stays: make playground (a stack, and a group with lag to explore), or make stack in another terminal, then make consume GROUP=mine RESET=latest"
else
  next="the broker on 9092 keeps running: make consume GROUP=mine RESET=latest, or make offsets GROUP=$group"
fi
say "Done. The consumer's ledger of everything it did is ${TMPDIR:-/tmp}/$group.ledger (bin/scenarios ledger FILE prints it as JSON lines). Next: $next."
