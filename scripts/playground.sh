#!/usr/bin/env bash
# make playground: the workshop's "run it yourself" slot. It leaves an
# embedded stack running and a group with committed offsets and lag behind,
# so that make offsets, make consume and offsets reset have something to
# show. make stack-stop ends the stack.
set -euo pipefail
bin=${1:-bin} topic=${2:-orders} group=${3:-workshop}
pidfile=$bin/stack.pid log=$bin/stack.log

if [[ -t 1 ]]; then say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else say() { printf '\n== %s\n' "$*"; }; fi
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if listening 9092; then
  say "A broker already listens on 127.0.0.1:9092: the playground uses it."
else
  say "Starting the embedded stack in the background (broker 127.0.0.1:9092, schema registry 127.0.0.1:8081; log $log)."
  nohup "$bin/stack" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 100); do grep -q '^ready' "$log" && break; kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$log"; exit 1; }; sleep 0.1; done
  grep -q '^ready' "$log" || { echo "the stack did not get ready within 10s; its log:"; cat "$log"; exit 1; }
fi

say "Producing 300 orders to '$topic', keyed by customerid."
"$bin/producer" --topic "$topic" --count 300 --key-field customerid | grep '^sent' || true

say "Group '$group' reads 120 of them, committing after each, and stops cleanly."
"$bin/consumer" --topic "$topic" --group "$group" --reset earliest --commit sync --max-messages 120 --quiet \
  --session-timeout 1s --heartbeat-interval 200ms 2>&1 | grep '^consumed' || true

say "What the broker holds for '$group': committed offsets, log end and lag."
"$bin/offsets" describe --group "$group"

stopper="it is not the playground's to stop"
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then stopper="make stack-stop ends it"; fi
cat <<EOT

The stack keeps running ($stopper). Try, in this or another terminal:
  make offsets GROUP=$group                  # committed vs log end: the lag
  make consume GROUP=$group                  # resumes at the committed offsets; Ctrl-C to stop
  make consume GROUP=mine RESET=latest       # a new group: waits for new records
  make produce COUNT=50                      # ...which this sends
  bin/offsets reset --group $group --topic $topic --to-earliest            # a dry run
  bin/offsets reset --group $group --topic $topic --to-earliest --execute  # with every consumer stopped
EOT
