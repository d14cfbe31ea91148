package config

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// A port nothing listens on refuses at once: CheckBroker says so instead of
// waiting out librdkafka's retries until --timeout. A listening port is
// left to the client.
func TestRefusedConnectionFailsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	c := &Connection{Bootstrap: closed, Timeout: time.Minute}
	err = c.CheckBroker(t.Context())
	var u *cli.UnreachableError
	if !errors.As(err, &u) || !u.Refused || cli.Code(err) != cli.ExitUnavailable {
		t.Fatalf("CheckBroker on a closed port: %v, want a refusal (exit 69), not a wait for the timeout", err)
	}
	if want := "broker at " + closed + " refused the connection: nothing listens there (is the stack running? try `make stack`)"; err.Error() != want {
		t.Errorf("%q, want %q", err.Error(), want)
	}
	for _, bootstrap := range []string{open.Addr().String(), closed + "," + open.Addr().String(), "PLAINTEXT://" + open.Addr().String()} {
		if err := refused(t.Context(), bootstrap, time.Second); err != nil {
			t.Errorf("%s: %v, want the client to try (one address listens)", bootstrap, err)
		}
	}
	if err := refused(t.Context(), closed+", PLAINTEXT://"+closed, time.Second); err == nil {
		t.Errorf("every address refused, but refused said nothing")
	}
}
