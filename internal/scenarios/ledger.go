package scenarios

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
)

// printLedgers prints ledgers, in either format, as JSON lines: one event a
// line, as a ledger written with OFFSETLAB_LEDGER_FORMAT=json holds them,
// for jq and grep. A torn last event is skipped, as the checks skip it.
func printLedgers(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return cli.Usagef("usage: scenarios ledger FILE... (a ledger a consumer, a producer or a story wrote)")
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	enc := json.NewEncoder(w)
	for _, path := range args {
		f, err := os.Open(path)
		if err != nil {
			return cli.Usagef("ledger: %v", err)
		}
		d := ledger.NewDecoder(f)
		for {
			e, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				w.Flush()
				return cli.Usagef("%s: %v", path, err)
			}
			if err := enc.Encode(e); err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
