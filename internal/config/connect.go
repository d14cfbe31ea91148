package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/riferrei/srclient"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// RegistryClient builds the schema registry client: codecs compiled eagerly
// (so a schema that does not compile is an error, not a nil codec later),
// every request bounded by the connection timeout, basic auth when the
// properties carry basic.auth.user.info.
func (c *Connection) RegistryClient() *srclient.SchemaRegistryClient {
	rc := srclient.NewSchemaRegistryClient(c.Registry, srclient.WithClient(&http.Client{Timeout: c.Timeout}))
	rc.CodecCreationEnabled(true)
	rc.SetCredentials(c.registryUser, c.registryPass)
	return rc
}

// CheckRegistry asks the registry for its subjects and reports, within the
// connection timeout, whether it answered.
func (c *Connection) CheckRegistry(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Registry+"/subjects", nil)
	if err != nil {
		return cli.Usagef("--registry %q is not a URL: %v", c.Registry, err)
	}
	if c.registryUser != "" {
		req.SetBasicAuth(c.registryUser, c.registryPass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &cli.UnreachableError{Service: "schema registry", Addr: c.Registry, Waited: c.Timeout, Err: errors.Unwrap(err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("schema registry at %s refused the credentials (%s): check basic.auth.user.info", c.Registry, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("schema registry at %s answered %s to GET /subjects", c.Registry, resp.Status)
	}
	return nil
}

// CheckBroker asks the cluster for its metadata and reports, within the
// connection timeout, whether it answered. librdkafka itself retries a dead
// broker forever; this is where offsetlab puts a bound on that.
func (c *Connection) CheckBroker(ctx context.Context) error {
	cm := c.ConfigMap(nil)
	admin, err := kafka.NewAdminClient(&cm)
	if err != nil {
		return ClientError("admin client", err)
	}
	defer admin.Close()
	go DiscardLogs(admin.Logs())
	done := make(chan error, 1)
	go func() {
		_, err := admin.GetMetadata(nil, false, int(c.Timeout/time.Millisecond))
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err != nil {
		return &cli.UnreachableError{Service: "broker", Addr: c.Bootstrap, Waited: c.Timeout, Err: err}
	}
	return nil
}

// ClientError turns librdkafka's refusal of a configuration into a usage
// error naming the property, and anything else into a plain error.
func ClientError(what string, err error) error {
	var kerr kafka.Error
	if errors.As(err, &kerr) && kerr.Code() == kafka.ErrInvalidArg || strings.Contains(err.Error(), "property") {
		return cli.Usagef("unable to create %s: %v (check --config and -X)", what, err)
	}
	return fmt.Errorf("unable to create %s: %w", what, err)
}

// DiscardLogs drains a client's log channel. offsetlab reads errors from
// events and results; librdkafka's log lines would only repeat them.
func DiscardLogs(logs chan kafka.LogEvent) {
	for range logs {
	}
}
