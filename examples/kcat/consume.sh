#!/usr/bin/env bash
# kcat as a member of offsetlab's consumer group (-G): one line per record,
# "offsetlab processed TOPIC PARTITION OFFSET", written the moment kcat
# prints it. Arguments are passed on to kcat, e.g. -X session.timeout.ms=6000.
set -euo pipefail
# Connection settings from $OFFSETLAB_CONFIG, less the registry's keys (this
# kcat is built without Avro and rejects them), read through a pipe on fd 3
# so that no copy of its secrets lands on disk. No file: no kcat.conf either.
config=(-F none)
if [ -n "${OFFSETLAB_CONFIG:-}" ]; then
  [ -r "$OFFSETLAB_CONFIG" ] || { echo "OFFSETLAB_CONFIG=$OFFSETLAB_CONFIG: not a readable file" >&2; exit 1; }
  exec 3< <(grep -v -E '^[[:space:]]*(schema\.registry\.|basic\.auth\.)' "$OFFSETLAB_CONFIG")
  config=(-F /dev/fd/3)
fi
# Line-buffered (stdbuf -oL), not -u: -u writes each field of the -f line
# with its own write(2), so a kill -9 can leave half a line and a librdkafka
# log line (stderr, shares the pipe) can land inside one. Line buffering
# writes each line whole, as soon as it ends.
# -E: ride through errors that are not fatal (all brokers down while the
# broker restarts) instead of exiting.
exec stdbuf -oL kcat -E "${config[@]}" -b "$OFFSETLAB_BOOTSTRAP" \
  -X client.id="${OFFSETLAB_INSTANCE:-kcat}" -X auto.offset.reset=earliest \
  -G "$OFFSETLAB_GROUP" "$OFFSETLAB_TOPIC" \
  -f 'offsetlab processed %t %p %o\n' "$@"
