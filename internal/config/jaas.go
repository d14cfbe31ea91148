package config

import (
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// parseJAAS pulls username and password out of a PlainLoginModule or
// ScramLoginModule line, the one login module Kafka's sasl.jaas.config
// holds:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY' password='SECRET';
//
// It reads the line as Java's JAAS parser does: the module class, the
// control flag, then key=value options up to the closing ';'. A value is a
// bare word or a quoted string ('...' or "..."), which may hold spaces, '='
// and ';', and in which a backslash escapes the next character
// (password="a \"b\" c" is `a "b" c`). Its errors never quote the line: it
// holds a password.
func parseJAAS(s string) (user, pass string, err error) {
	toks, err := jaasTokens(s)
	if err != nil {
		return "", "", err
	}
	if len(toks) > 0 && toks[len(toks)-1] == (jaasToken{text: ";"}) {
		toks = toks[:len(toks)-1]
	}
	bad := cli.Usagef("sasl.jaas.config: expected username='...' password='...' in a LoginModule line")
	// The module class and the control flag (required, requisite, ...).
	if len(toks) < 2 || toks[0].quoted || toks[1].quoted || isJAASPunct(toks[0]) || isJAASPunct(toks[1]) {
		return "", "", bad
	}
	opts := toks[2:]
	for len(opts) > 0 {
		if len(opts) < 3 || opts[0].quoted || isJAASPunct(opts[0]) || opts[1] != (jaasToken{text: "="}) || isJAASPunct(opts[2]) {
			return "", "", cli.Usagef("sasl.jaas.config: expected key=value options after the LoginModule class and its control flag, ending with ';' (one login module only)")
		}
		switch opts[0].text {
		case "username":
			user = opts[2].text
		case "password":
			pass = opts[2].text
		}
		opts = opts[3:]
	}
	if user == "" || pass == "" {
		return "", "", bad
	}
	return user, pass, nil
}

// jaasToken is a word, a quoted string, or one of the punctuation marks
// '=' and ';' (text "=" or ";", not quoted).
type jaasToken struct {
	text   string
	quoted bool
}

func isJAASPunct(t jaasToken) bool { return !t.quoted && (t.text == "=" || t.text == ";") }

// jaasTokens splits a JAAS line into words, quoted strings, '=' and ';'.
func jaasTokens(s string) ([]jaasToken, error) {
	var toks []jaasToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=' || c == ';':
			toks = append(toks, jaasToken{text: string(c)})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, cli.Usagef("sasl.jaas.config: a value opened with %c is never closed", c)
			}
			toks = append(toks, jaasToken{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r=;\"'", rune(s[j])) {
				j++
			}
			toks = append(toks, jaasToken{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}
