package config

import (
	"slices"
	"strings"
)

// librdkafkaSensitive is librdkafka's own list of sensitive properties: the
// ones flagged _RK_SENSITIVE in src/rdkafka_conf.c, whose values librdkafka
// itself redacts from its debug dumps and overwrites after use. Copied from
// librdkafka v2.15.0 (commit 9a94e11452cd), the version confluent-kafka-go
// v2.15.0 bundles (RD_KAFKA_VERSION 0x020f00ff). CONFIGURATION.md does not
// mark them (its "*" column means "consumer and producer"), so the source is
// the table in rdkafka_conf.c. To refresh it after a confluent-kafka-go
// upgrade:
//
//	git show vX.Y.Z:src/rdkafka_conf.c | grep -A2 _RK_SENSITIVE | grep -o '"[a-z_.]*"'
//
// TestSensitiveMasked checks that every name here is masked by
// --print-config and left out of the consumer ledger's started event.
var librdkafkaSensitive = []string{
	"ssl.key.location",
	"ssl.key.password",
	"ssl.key.pem",
	"ssl_key",
	"ssl.ca.pem",
	"ssl.keystore.password",
	"sasl.username",
	"sasl.password",
	"sasl.oauthbearer.config",
	"sasl.oauthbearer.client.secret",
	"sasl.oauthbearer.assertion.private.key.file",
	"sasl.oauthbearer.assertion.private.key.passphrase",
	"sasl.oauthbearer.assertion.private.key.pem",
}

// registrySensitive are the secrets of the schema registry and the Java
// client's spellings that offsetlab reads but librdkafka does not know.
var registrySensitive = []string{
	"basic.auth.user.info",
	"schema.registry.basic.auth.user.info",
	"sasl.jaas.config",
}

// SensitiveKeys lists every property offsetlab treats as secret by name:
// librdkafka's list, then the registry's.
func SensitiveKeys() []string {
	return append(append([]string(nil), librdkafkaSensitive...), registrySensitive...)
}

// IsSecret reports whether a property holds a secret that must never be
// printed: a name on librdkafka's or the registry's list, or, for keys on
// neither (a newer librdkafka's, another client's), a name that says it
// holds a secret.
func IsSecret(key string) bool {
	k := strings.ToLower(strings.TrimSpace(key))
	if slices.Contains(librdkafkaSensitive, k) || slices.Contains(registrySensitive, k) {
		return true
	}
	for _, s := range []string{"password", "passphrase", "secret", "user.info", "jaas", "token", "key.pem", "keystore", "oauthbearer.config"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// RedactURL hides the password of a URL's userinfo
// (http://alice:SECRET@host becomes http://alice:********@host) and leaves
// the rest as written. It works on the text, so that a URL too broken to
// parse is redacted too. Every place that shows the registry's URL, in
// --print-config or in an error, shows it through RedactURL.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	out := user + ":" + Masked + rest[at:]
	if ok {
		out = scheme + "://" + out
	}
	return out
}
