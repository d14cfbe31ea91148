package config

import (
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/cli"
)

const plain = "org.apache.kafka.common.security.plain.PlainLoginModule required "

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct{ name, line, user, pass string }{
		{"single quotes", plain + "username='KEY' password='SECRET';", "KEY", "SECRET"},
		{"double quotes", plain + `username="KEY" password="SECRET";`, "KEY", "SECRET"},
		{"a space in the password", plain + `username="KEY" password="PW extra";`, "KEY", "PW extra"},
		{"spaces, = and ; quoted", plain + `username='KEY' password='a = b; c';`, "KEY", "a = b; c"},
		{"escaped double quotes", plain + `username="KEY" password="say \"hi\" now";`, "KEY", `say "hi" now`},
		{"an escaped backslash", plain + `username="KEY" password="a\\b";`, "KEY", `a\b`},
		{"the other quote inside", plain + `username="KEY" password="it's";`, "KEY", "it's"},
		{"bare words", plain + "username=KEY password=SECRET;", "KEY", "SECRET"},
		{"no trailing ;", plain + "username='KEY' password='SECRET'", "KEY", "SECRET"},
		{"spaces around = and ;", plain + " username = 'KEY'\n password = 'SECRET' ; ", "KEY", "SECRET"},
		{"other options", "org.apache.kafka.common.security.scram.ScramLoginModule required tokenauth=false username='KEY' password='SECRET';", "KEY", "SECRET"},
		{"placeholders", plain + "username='{{ CLUSTER_API_KEY }}' password='{{ CLUSTER_API_SECRET }}';", "{{ CLUSTER_API_KEY }}", "{{ CLUSTER_API_SECRET }}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, pass, err := parseJAAS(tc.line)
			if err != nil || user != tc.user || pass != tc.pass {
				t.Errorf("parseJAAS(%s) = %q, %q, %v; want %q, %q", tc.line, user, pass, err, tc.user, tc.pass)
			}
		})
	}
}

// A malformed line is a usage error that never quotes the line: it holds a
// password.
func TestParseJAASErrors(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"no options", plain + ";", "expected username='...' password='...'"},
		{"no password", plain + "username='KEY';", "expected username='...' password='...'"},
		{"unclosed quote", plain + "username='KEY' password='PW-4e2;", "a value opened with ' is never closed"},
		{"option without value", plain + "username='KEY' password= ;", "expected key=value options"},
		{"two modules", plain + "username='KEY' password='PW-4e2'; " + plain + "username='K' password='P';", "one login module only"},
		{"no control flag", "PlainLoginModule username='KEY' password='PW-4e2';", "expected key=value options"},
		{"empty", "", "expected username='...' password='...'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseJAAS(tc.line)
			if err == nil || cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseJAAS(%s) = %v, want a usage error with %q", tc.line, err, tc.want)
			}
			if strings.Contains(err.Error(), "PW-4e2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
