package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// FuzzReadProperties: any file either reads as properties or is refused
// with a one-line usage error; it never panics or hangs.
func FuzzReadProperties(f *testing.F) {
	for _, s := range []string{
		"bootstrap.servers=pkc-123.confluent.cloud:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\n",
		"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='{{ CLUSTER_API_KEY }}' password='{{ CLUSTER_API_SECRET }}';\n",
		"# comment\n! other comment\nkey: value\nkey2 value2\n",
		"long=first \\\n    second\n",
		"schema.registry.url=https://psrc.example\nbasic.auth.credentials.source=USER_INFO\nbasic.auth.user.info={{ SR_API_KEY }}:{{ SR_API_SECRET }}\n",
		"unicode=\\u00e9\\u0041\n",
		"bad=\\uZZZZ\n",
		"expand=${other}\nother=x\n",
		"=no key\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		kvs, err := ReadProperties(pipeFile(t, text))
		if err != nil {
			var usage *cli.UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("not a usage error: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		for _, kv := range kvs {
			if kv[1] != strings.TrimSpace(kv[1]) {
				t.Fatalf("value of %q keeps its spaces: %q", kv[0], kv[1])
			}
		}
	})
}

// pipeFile is a path that reads as text: a pipe, not a file, so that the
// fuzzer spends its time parsing rather than writing to disk.
func pipeFile(t *testing.T, text string) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		_, _ = w.WriteString(text)
		w.Close()
	}()
	return fmt.Sprintf("/dev/fd/%d", r.Fd())
}
