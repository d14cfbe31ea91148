#!/usr/bin/python3
"""The consumer of Confluent's "Getting Started with Apache Kafka and Python",
made at-least-once and taught offsetlab's line protocol.

Settings come from the environment offsetlab gives a consumer under test:
OFFSETLAB_BOOTSTRAP, OFFSETLAB_TOPIC, OFFSETLAB_GROUP, OFFSETLAB_INSTANCE and
OFFSETLAB_CONFIG (a client.properties file, optional). WORK_MS (default 5) is
the simulated work per record, in milliseconds.
"""

import argparse
import os
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException


def read_config(path):
    """Reads a client.properties file: key=value lines, blanks and # comments skipped."""
    config = {}
    if not path:  # a plaintext local stack needs no file
        return config
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if len(line) != 0 and line[0] != "#":
                parameter, value = line.split("=", 1)
                config[parameter.strip()] = value.strip()
    # The registry's settings belong to a schema registry client, not to the consumer
    # (librdkafka rejects keys it does not know).
    return {k: v for k, v in config.items()
            if not k.startswith(("schema.registry.", "basic.auth."))}


def process(msg, work_s):
    """The application's work. The value is Avro in Confluent's wire format: kept as bytes."""
    time.sleep(work_s)


def show(consumer, partitions):
    print(f"position:  {fmt(consumer.position(partitions))}", flush=True)
    print(f"committed: {fmt(consumer.committed(partitions, timeout=10))}", flush=True)


def fmt(partitions):
    return " ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions) or "(none)"


def settings(argv=None):
    parser = argparse.ArgumentParser(description="At-least-once confluent_kafka consumer (see README.md).")
    parser.add_argument("-X", dest="props", action="append", default=[], metavar="KEY=VALUE",
                        help="librdkafka property, applied after OFFSETLAB_CONFIG (repeatable), "
                             "e.g. -X session.timeout.ms=6000")
    args = parser.parse_args(argv)
    try:
        return dict(kv.split("=", 1) for kv in args.props)
    except ValueError:
        parser.error("-X takes KEY=VALUE")


def main():
    overrides = settings()
    topic = os.environ["OFFSETLAB_TOPIC"]
    instance = os.environ.get("OFFSETLAB_INSTANCE", "python-consumer")
    work_s = int(os.environ.get("WORK_MS", "5")) / 1000

    config = read_config(os.environ.get("OFFSETLAB_CONFIG"))
    if os.environ.get("OFFSETLAB_BOOTSTRAP"):
        config["bootstrap.servers"] = os.environ["OFFSETLAB_BOOTSTRAP"]
    config.update({
        "group.id": os.environ["OFFSETLAB_GROUP"],
        "client.id": instance,
        "auto.offset.reset": "earliest",
        # At-least-once with auto-commit: the background commit (every 5 s, on
        # rebalance and in close()) commits only offsets this program stored,
        # and it stores a record's offset after processing it.
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,
    })
    config.update(overrides)

    running = True

    def stop(signum, frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    consumer = Consumer(config)

    def on_assign(consumer, partitions):
        print(f"assigned:  {fmt(partitions)}", flush=True)

    def on_revoke(consumer, partitions):
        print(f"revoked:   {fmt(partitions)}", flush=True)

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    try:
        while running:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().fatal():
                    raise KafkaException(msg.error())
                print(f"ERROR: {msg.error()}", file=sys.stderr, flush=True)
                continue
            process(msg, work_s)
            print(f"offsetlab processed {msg.topic()} {msg.partition()} {msg.offset()}", flush=True)
            consumer.store_offsets(message=msg)
    finally:
        # Commit what was processed now, so that a failed commit shows here
        # (close() would commit it too, but silently), print the position and
        # the committed offsets of the assignment, then leave the group.
        assignment = consumer.assignment()
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:  # nothing new since the last commit
                print(f"final commit failed: {e}", file=sys.stderr, flush=True)
        if assignment:
            show(consumer, assignment)
        consumer.close()


if __name__ == "__main__":
    main()
