// examples/node with one deliberate bug: eachMessage hands the record to a
// small worker pool and returns at once, "so the consumer never waits".
// KafkaJS takes the resolved promise as "processed", resolves the offset and
// commits it after the batch, while the record is still queued in the pool:
// at-most-once by accident. A kill -9 loses every record still in the pool.
//
// Same environment as examples/node; WORK_MS (default 5) is the work per
// record, POOL_SIZE (default 2) the number of records worked on at once.
'use strict'

const { Kafka } = require('kafkajs')
const { argProperties, kafkaOptions, readProperties } = require('../node/properties')

const workMs = Number(process.env.WORK_MS ?? 5)
const poolSize = Number(process.env.POOL_SIZE ?? 2)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const print = line =>
  new Promise((resolve, reject) => process.stdout.write(line + '\n', err => (err ? reject(err) : resolve())))

// A tiny worker pool: at most poolSize jobs run, the rest wait in a queue.
const queue = []
let running = 0
let idle = () => {}
function submit(job) {
  queue.push(job)
  drain()
}
function drain() {
  while (running < poolSize && queue.length > 0) {
    const job = queue.shift()
    running++
    job()
      .catch(err => console.error('job failed:', err))
      .finally(() => {
        running--
        drain()
      })
  }
  if (running === 0 && queue.length === 0) idle()
}
const drained = () => new Promise(resolve => (running === 0 && queue.length === 0 ? resolve() : (idle = resolve)))

async function main() {
  const props = { ...readProperties(process.env.OFFSETLAB_CONFIG), ...argProperties(process.argv.slice(2)) }
  const { client, consumer: consumerOptions } = kafkaOptions(props, process.env.OFFSETLAB_BOOTSTRAP)
  const kafka = new Kafka({ clientId: process.env.OFFSETLAB_INSTANCE || 'node-broken', ...client })
  const consumer = kafka.consumer({ groupId: process.env.OFFSETLAB_GROUP, ...consumerOptions })

  // SIGTERM: leave the group, finish the queued work, exit. Only a kill -9
  // shows the bug.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, async () => {
      try {
        await consumer.disconnect()
        await drained()
      } finally {
        process.exit(0)
      }
    })
  }

  await consumer.connect()
  await consumer.subscribe({ topics: [process.env.OFFSETLAB_TOPIC], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      // BUG: returns before the work is done; KafkaJS then commits this offset.
      submit(async () => {
        await sleep(workMs)
        await print(`offsetlab processed ${topic} ${partition} ${message.offset}`)
      })
    },
  })
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
