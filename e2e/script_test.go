package e2e

import (
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offsetlab/offsetlab/internal/stack"
)

// TestScripts runs testdata/*.txtar: each script gets its own embedded
// stack, the commands on its PATH, and the verbs below.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams("testdata"))
}

// scriptParams runs the scripts in dir, each with its own embedded stack,
// the commands on its PATH, and the verbs below.
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			opts := stack.Defaults()
			opts.BrokerAddr, opts.RegistryAddr = "127.0.0.1:0", "127.0.0.1:0"
			s, err := stack.Start(opts)
			if err != nil {
				return err
			}
			env.Defer(s.Close)
			env.Setenv("OFFSETLAB_BOOTSTRAP", s.BrokerAddr())
			env.Setenv("OFFSETLAB_REGISTRY", s.RegistryURL())
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   exitCode,
			"rawproduce": rawProduce,
		},
	}
}

// exitcode N prog [args...] runs prog and checks that it exits with N,
// leaving its output for stdout and stderr checks.
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	start := time.Now()
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d after %s, want %d", args[1], got, time.Since(start).Round(time.Millisecond), want)
	}
}

// rawproduce TOPIC PARTITION VALUE writes one record as given, bypassing
// the registry: VALUE is text, or hex:... for bytes. For poison records.
func rawProduce(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: rawproduce TOPIC PARTITION VALUE")
	}
	partition, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("rawproduce: partition %q is not a number", args[1])
	}
	value := []byte(args[2])
	if h, ok := strings.CutPrefix(args[2], "hex:"); ok {
		if value, err = hex.DecodeString(h); err != nil {
			ts.Fatalf("rawproduce: %v", err)
		}
	}
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": ts.Getenv("OFFSETLAB_BOOTSTRAP")})
	ts.Check(err)
	defer p.Close()
	done := make(chan kafka.Event, 1)
	ts.Check(p.Produce(&kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &args[0], Partition: int32(partition)},
		Value:          value,
	}, done))
	select {
	case ev := <-done:
		ts.Check(ev.(*kafka.Message).TopicPartition.Error)
	case <-time.After(10 * time.Second):
		ts.Fatalf("rawproduce: no acknowledgement within 10s")
	}
}
