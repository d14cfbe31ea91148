package config

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// refused reports, as an UnreachableError, a bootstrap list on which every
// address refused a TCP connection: nothing listens there, and librdkafka
// would retry it until the timeout (10.2 s for `make offsets` with no
// stack). An address that accepts, stays silent or cannot be resolved
// leaves the answer to the client and its timeout, so nil.
func refused(ctx context.Context, bootstrap string, timeout time.Duration) error {
	var last error
	for _, addr := range strings.Split(bootstrap, ",") {
		addr = strings.TrimSpace(addr)
		if i := strings.Index(addr, "://"); i >= 0 { // PLAINTEXT://host:port
			addr = addr[i+3:]
		}
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		last = err
	}
	if last == nil {
		return nil
	}
	return &cli.UnreachableError{Service: "broker", Addr: bootstrap, Refused: true, Err: last}
}
