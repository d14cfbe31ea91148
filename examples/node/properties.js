// Reads offsetlab's OFFSETLAB_CONFIG (a librdkafka-style client.properties)
// and maps the settings KafkaJS has an equivalent for.
'use strict'

const fs = require('node:fs')
const { parseArgs } = require('node:util')

// key=value lines; blanks and # comments skipped. No file: no settings.
function readProperties(path) {
  const props = {}
  if (!path) return props
  for (const raw of fs.readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq < 1) throw new Error(`${path}: expected key=value, got ${JSON.stringify(line)}`)
    props[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  return props
}

// -X key=value arguments (repeatable), as kcat and librdkafka's tools take
// them: properties applied after the file's, e.g. -X session.timeout.ms=6000.
function argProperties(args) {
  const { values } = parseArgs({ args, options: { property: { type: 'string', short: 'X', multiple: true } } })
  const props = {}
  for (const kv of values.property ?? []) {
    const eq = kv.indexOf('=')
    if (eq < 1) throw new Error(`-X ${kv}: expected key=value`)
    props[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return props
}

// librdkafka properties to KafkaJS's client options (brokers, ssl, sasl) and
// consumer options (timeouts). Keys KafkaJS has no use for (the registry's,
// for one) are ignored.
function kafkaOptions(props, bootstrap) {
  const servers = bootstrap || props['bootstrap.servers'] || '127.0.0.1:9092'
  const client = { brokers: servers.split(',').map(s => s.trim()) }

  const protocol = (props['security.protocol'] || 'PLAINTEXT').toUpperCase()
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const ca = props['ssl.ca.location']
    client.ssl = ca ? { ca: [fs.readFileSync(ca, 'utf8')] } : true
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    client.sasl = {
      mechanism: (props['sasl.mechanisms'] || props['sasl.mechanism'] || 'PLAIN').toLowerCase(),
      username: props['sasl.username'],
      password: props['sasl.password'],
    }
  }

  const consumer = {}
  const ms = key => (props[key] === undefined ? undefined : Number(props[key]))
  if (props['session.timeout.ms'] !== undefined) consumer.sessionTimeout = ms('session.timeout.ms')
  if (props['heartbeat.interval.ms'] !== undefined) consumer.heartbeatInterval = ms('heartbeat.interval.ms')
  if (props['max.poll.interval.ms'] !== undefined) consumer.rebalanceTimeout = ms('max.poll.interval.ms')
  return { client, consumer }
}

module.exports = { readProperties, argProperties, kafkaOptions }
