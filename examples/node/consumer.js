// A KafkaJS consumer as in KafkaJS's getting-started guide (consumer.run with
// eachMessage), speaking offsetlab's line protocol. At-least-once: KafkaJS
// resolves a record's offset when eachMessage's promise resolves, and commits
// the resolved offsets after each batch, on rebalance and in disconnect().
//
// Environment: OFFSETLAB_BOOTSTRAP, OFFSETLAB_TOPIC, OFFSETLAB_GROUP,
// OFFSETLAB_INSTANCE, OFFSETLAB_CONFIG (optional client.properties) and
// WORK_MS (default 5, milliseconds of simulated work per record).
'use strict'

const { Kafka } = require('kafkajs')
const { argProperties, kafkaOptions, readProperties } = require('./properties')

const workMs = Number(process.env.WORK_MS ?? 5)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// Resolves once the line is handed to the pipe: stdout is asynchronous on
// POSIX pipes, and a line still in Node's buffer dies with a kill -9.
const print = line =>
  new Promise((resolve, reject) => process.stdout.write(line + '\n', err => (err ? reject(err) : resolve())))

// The application's work. The value is Avro in Confluent's wire format: kept as bytes.
async function processRecord(message) {
  await sleep(workMs)
}

async function main() {
  const props = { ...readProperties(process.env.OFFSETLAB_CONFIG), ...argProperties(process.argv.slice(2)) }
  const { client, consumer: consumerOptions } = kafkaOptions(props, process.env.OFFSETLAB_BOOTSTRAP)
  const kafka = new Kafka({ clientId: process.env.OFFSETLAB_INSTANCE || 'node-consumer', ...client })
  const consumer = kafka.consumer({ groupId: process.env.OFFSETLAB_GROUP, ...consumerOptions })

  // SIGTERM: disconnect() lets the record in hand finish, commits what was
  // resolved and leaves the group; then exit.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, async () => {
      try {
        await consumer.disconnect()
      } finally {
        process.exit(0)
      }
    })
  }

  await consumer.connect()
  await consumer.subscribe({ topics: [process.env.OFFSETLAB_TOPIC], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      await processRecord(message)
      await print(`offsetlab processed ${topic} ${partition} ${message.offset}`)
    },
  })
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
