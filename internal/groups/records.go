package groups

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// DeleteRecords moves each partition's log start up to the given offset, as
// retention would, and returns the new log starts. A group whose committed
// offset falls below a new log start has an out-of-range offset: its reset
// policy applies again.
func (a *Admin) DeleteRecords(ctx context.Context, before map[TP]int64) (map[TP]int64, error) {
	parts := make([]kafka.TopicPartition, 0, len(before))
	for tp, off := range before {
		topic := tp.Topic
		parts = append(parts, kafka.TopicPartition{Topic: &topic, Partition: tp.Partition, Offset: kafka.Offset(off)})
	}
	var res kafka.DeleteRecordsResults
	err := a.call(ctx, "the records to be deleted", func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.DeleteRecords(ctx, parts, kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return nil, err
	}
	starts := make(map[TP]int64, len(res.DeleteRecordsResults))
	for _, r := range res.DeleteRecordsResults {
		tp := TP{Topic: *r.TopicPartition.Topic, Partition: r.TopicPartition.Partition}
		if r.TopicPartition.Error != nil {
			return nil, fmt.Errorf("unable to delete the records of %s below %d: %w", tp, before[tp], r.TopicPartition.Error)
		}
		starts[tp] = int64(r.DeletedRecords.LowWatermark)
	}
	return starts, nil
}

// SetBrokerConfig sets a dynamic config on every broker, or with value ""
// removes the override so the broker's default applies again. Apache Kafka
// accepts only its dynamically updatable configs here.
func (a *Admin) SetBrokerConfig(ctx context.Context, name, value string) error {
	op := kafka.AlterConfigOpTypeSet
	if value == "" {
		op = kafka.AlterConfigOpTypeDelete
	}
	var res []kafka.ConfigResourceResult
	err := a.call(ctx, "the broker config change", func(ctx context.Context, timeout time.Duration) error {
		md, err := a.ac.GetMetadata(nil, false, int(timeout/time.Millisecond))
		if err != nil {
			return err
		}
		var resources []kafka.ConfigResource
		for _, b := range md.Brokers {
			resources = append(resources, kafka.ConfigResource{
				Type: kafka.ResourceBroker, Name: strconv.Itoa(int(b.ID)),
				Config: []kafka.ConfigEntry{{Name: name, Value: value, IncrementalOperation: op}},
			})
		}
		res, err = a.ac.IncrementalAlterConfigs(ctx, resources, kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Error.Code() != kafka.ErrNoError {
			return fmt.Errorf("unable to set broker config %s: %w", name, r.Error)
		}
	}
	return nil
}

// BrokerConfigs reads the named configs of the first broker (DescribeConfigs);
// a config the broker does not report is absent from the map.
func (a *Admin) BrokerConfigs(ctx context.Context, names []string) (map[string]string, error) {
	configs := map[string]string{}
	err := a.call(ctx, "the broker's configs", func(ctx context.Context, timeout time.Duration) error {
		md, err := a.ac.GetMetadata(nil, false, int(timeout/time.Millisecond))
		if err != nil {
			return err
		}
		if len(md.Brokers) == 0 {
			return fmt.Errorf("the cluster's metadata lists no broker")
		}
		res, err := a.ac.DescribeConfigs(ctx, []kafka.ConfigResource{{Type: kafka.ResourceBroker, Name: strconv.Itoa(int(md.Brokers[0].ID))}},
			kafka.SetAdminRequestTimeout(timeout))
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Error.Code() != kafka.ErrNoError {
				return r.Error
			}
			for name, e := range r.Config {
				if slices.Contains(names, name) {
					configs[name] = e.Value
				}
			}
		}
		return nil
	})
	return configs, err
}
