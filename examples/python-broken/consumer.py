#!/usr/bin/python3
"""examples/python with one deliberate bug: it commits each record's offset
BEFORE processing it, so it is at-most-once by accident. A kill -9 during
processing loses the record: the group resumes after it.

Same environment as examples/python: OFFSETLAB_BOOTSTRAP, OFFSETLAB_TOPIC,
OFFSETLAB_GROUP, OFFSETLAB_INSTANCE, OFFSETLAB_CONFIG (optional) and WORK_MS
(default 5, milliseconds of simulated work per record).
"""

import argparse
import os
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaException


def read_config(path):
    """Reads a client.properties file: key=value lines, blanks and # comments skipped."""
    config = {}
    if not path:
        return config
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if len(line) != 0 and line[0] != "#":
                parameter, value = line.split("=", 1)
                config[parameter.strip()] = value.strip()
    return {k: v for k, v in config.items()
            if not k.startswith(("schema.registry.", "basic.auth."))}


def main():
    parser = argparse.ArgumentParser(description="A consumer that commits before processing (see README.md).")
    parser.add_argument("-X", dest="props", action="append", default=[], metavar="KEY=VALUE",
                        help="librdkafka property, applied after OFFSETLAB_CONFIG (repeatable)")
    overrides = dict(kv.split("=", 1) for kv in parser.parse_args().props)
    work_s = int(os.environ.get("WORK_MS", "5")) / 1000
    config = read_config(os.environ.get("OFFSETLAB_CONFIG"))
    if os.environ.get("OFFSETLAB_BOOTSTRAP"):
        config["bootstrap.servers"] = os.environ["OFFSETLAB_BOOTSTRAP"]
    config.update({
        "group.id": os.environ["OFFSETLAB_GROUP"],
        "client.id": os.environ.get("OFFSETLAB_INSTANCE", "python-broken"),
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,  # "we commit ourselves, to be safe"
    })
    config.update(overrides)

    running = True

    def stop(signum, frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    consumer = Consumer(config)
    consumer.subscribe([os.environ["OFFSETLAB_TOPIC"]])
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
            # BUG: the commit comes first. Once it returns, the broker resumes
            # the group after this record, whether or not it gets processed.
            consumer.commit(message=msg, asynchronous=False)
            time.sleep(work_s)  # the processing
            print(f"offsetlab processed {msg.topic()} {msg.partition()} {msg.offset()}", flush=True)
    finally:
        assignment = consumer.assignment()
        if assignment:
            fmt = lambda ps: " ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in ps)
            print(f"position:  {fmt(consumer.position(assignment))}", flush=True)
            print(f"committed: {fmt(consumer.committed(assignment, timeout=10))}", flush=True)
        consumer.close()


if __name__ == "__main__":
    main()
