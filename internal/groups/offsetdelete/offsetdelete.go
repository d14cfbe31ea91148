// Package offsetdelete deletes some of a consumer group's committed offsets
// (Kafka's OffsetDelete request, what `kafka-consumer-groups --delete-offsets`
// sends).
//
// confluent-kafka-go v2.15.0 does not wrap librdkafka's
// rd_kafka_DeleteConsumerGroupOffsets, although the librdkafka it links
// has it. This package calls it through cgo: it declares the few
// librdkafka functions and types it uses, exactly as rdkafka.h (v2.15.0)
// declares them, and the linker resolves them in the librdkafka that
// confluent-kafka-go brings (statically, or the system's with -tags dynamic).
// Each call makes its own short-lived librdkafka client from the same
// configuration map every offsetlab client is built from.
//
// Once confluent-kafka-go gains DeleteConsumerGroupOffsets, this package
// should go.
package offsetdelete

/*
#include <stdint.h>
#include <stdlib.h>

// Declarations as in librdkafka v2.15.0's rdkafka.h.
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_op_s rd_kafka_event_t;
typedef struct rd_kafka_error_s rd_kafka_error_t;
typedef struct rd_kafka_group_result_s rd_kafka_group_result_t;
typedef struct rd_kafka_AdminOptions_s rd_kafka_AdminOptions_t;
typedef struct rd_kafka_DeleteConsumerGroupOffsets_s rd_kafka_DeleteConsumerGroupOffsets_t;
typedef rd_kafka_event_t rd_kafka_DeleteConsumerGroupOffsets_result_t;
typedef int rd_kafka_event_type_t;
typedef int rd_kafka_resp_err_t;  // an enum in rdkafka.h
typedef int rd_kafka_conf_res_t;  // an enum in rdkafka.h
typedef int rd_kafka_type_t;      // an enum in rdkafka.h
typedef int rd_kafka_admin_op_t;  // an enum in rdkafka.h

typedef struct rd_kafka_topic_partition_s {
	char *topic;
	int32_t partition;
	int64_t offset;
	void *metadata;
	size_t metadata_size;
	void *opaque;
	rd_kafka_resp_err_t err;
	void *_private;
} rd_kafka_topic_partition_t;

typedef struct rd_kafka_topic_partition_list_s {
	int cnt;
	int size;
	rd_kafka_topic_partition_t *elems;
} rd_kafka_topic_partition_list_t;

#define OFFSETLAB_RD_KAFKA_PRODUCER 0
#define OFFSETLAB_RD_KAFKA_CONF_OK 0
#define OFFSETLAB_RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS 8
#define OFFSETLAB_RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT 107

extern rd_kafka_conf_t *rd_kafka_conf_new(void);
extern void rd_kafka_conf_destroy(rd_kafka_conf_t *conf);
extern rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t errstr_size);
extern void rd_kafka_conf_set_log_cb(rd_kafka_conf_t *conf, void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac, const char *buf));
extern rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);
extern void rd_kafka_destroy(rd_kafka_t *rk);
extern rd_kafka_queue_t *rd_kafka_queue_new(rd_kafka_t *rk);
extern void rd_kafka_queue_destroy(rd_kafka_queue_t *rkqu);
extern rd_kafka_event_t *rd_kafka_queue_poll(rd_kafka_queue_t *rkqu, int timeout_ms);
extern rd_kafka_topic_partition_list_t *rd_kafka_topic_partition_list_new(int size);
extern void rd_kafka_topic_partition_list_destroy(rd_kafka_topic_partition_list_t *rkparlist);
extern rd_kafka_topic_partition_t *rd_kafka_topic_partition_list_add(rd_kafka_topic_partition_list_t *rktparlist, const char *topic, int32_t partition);
extern rd_kafka_DeleteConsumerGroupOffsets_t *rd_kafka_DeleteConsumerGroupOffsets_new(const char *group, const rd_kafka_topic_partition_list_t *partitions);
extern void rd_kafka_DeleteConsumerGroupOffsets_destroy(rd_kafka_DeleteConsumerGroupOffsets_t *del_grpoffsets);
extern rd_kafka_AdminOptions_t *rd_kafka_AdminOptions_new(rd_kafka_t *rk, rd_kafka_admin_op_t for_api);
extern void rd_kafka_AdminOptions_destroy(rd_kafka_AdminOptions_t *options);
extern rd_kafka_resp_err_t rd_kafka_AdminOptions_set_request_timeout(rd_kafka_AdminOptions_t *options, int timeout_ms, char *errstr, size_t errstr_size);
extern void rd_kafka_DeleteConsumerGroupOffsets(rd_kafka_t *rk, rd_kafka_DeleteConsumerGroupOffsets_t **del_grpoffsets, size_t del_grpoffsets_cnt, const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu);
extern rd_kafka_event_type_t rd_kafka_event_type(const rd_kafka_event_t *rkev);
extern rd_kafka_resp_err_t rd_kafka_event_error(rd_kafka_event_t *rkev);
extern const char *rd_kafka_event_error_string(rd_kafka_event_t *rkev);
extern void rd_kafka_event_destroy(rd_kafka_event_t *rkev);
extern const rd_kafka_DeleteConsumerGroupOffsets_result_t *rd_kafka_event_DeleteConsumerGroupOffsets_result(rd_kafka_event_t *rkev);
extern const rd_kafka_group_result_t **rd_kafka_DeleteConsumerGroupOffsets_result_groups(const rd_kafka_DeleteConsumerGroupOffsets_result_t *result, size_t *cntp);
extern const rd_kafka_error_t *rd_kafka_group_result_error(const rd_kafka_group_result_t *groupres);
extern const rd_kafka_topic_partition_list_t *rd_kafka_group_result_partitions(const rd_kafka_group_result_t *groupres);
extern rd_kafka_resp_err_t rd_kafka_error_code(const rd_kafka_error_t *error);
extern const char *rd_kafka_error_string(const rd_kafka_error_t *error);
extern const char *rd_kafka_err2str(rd_kafka_resp_err_t err);

// offsetlab_discard_log drops librdkafka's log lines: errors reach the
// caller as results, as with every offsetlab client.
static void offsetlab_discard_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {}

static void offsetlab_quiet(rd_kafka_conf_t *conf) {
	rd_kafka_conf_set_log_cb(conf, offsetlab_discard_log);
}

static rd_kafka_topic_partition_t *offsetlab_elem(const rd_kafka_topic_partition_list_t *l, int i) {
	return &l->elems[i];
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	// confluent-kafka-go links the librdkafka the declarations above
	// resolve in.
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Delete removes group's committed offsets for partitions. It returns the
// partitions with Error set where the broker refused one (for example
// GROUP_SUBSCRIBED_TO_TOPIC: a live member consumes the topic), and an
// error for a refusal of the whole request, such as GROUP_ID_NOT_FOUND or
// NON_EMPTY_GROUP. Broker errors are kafka.Error values. timeout bounds the
// request; ctx can end the wait sooner.
func Delete(ctx context.Context, cm kafka.ConfigMap, group string, partitions []kafka.TopicPartition, timeout time.Duration) ([]kafka.TopicPartition, error) {
	if len(partitions) == 0 {
		return nil, nil
	}
	errstr := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errstr))

	conf := C.rd_kafka_conf_new()
	for k, v := range cm {
		if strings.HasPrefix(k, "go.") {
			continue // confluent-kafka-go's own settings, not librdkafka's
		}
		ck, cv := C.CString(k), C.CString(fmt.Sprint(v))
		res := C.rd_kafka_conf_set(conf, ck, cv, errstr, 512)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if res != C.OFFSETLAB_RD_KAFKA_CONF_OK {
			C.rd_kafka_conf_destroy(conf)
			return nil, kafka.NewError(kafka.ErrInvalidArg, fmt.Sprintf("property %s: %s", k, C.GoString(errstr)), false)
		}
	}
	C.offsetlab_quiet(conf)
	rk := C.rd_kafka_new(C.OFFSETLAB_RD_KAFKA_PRODUCER, conf, errstr, 512)
	if rk == nil {
		C.rd_kafka_conf_destroy(conf) // not taken over on failure
		return nil, kafka.NewError(kafka.ErrInvalidArg, C.GoString(errstr), false)
	}
	defer C.rd_kafka_destroy(rk)
	queue := C.rd_kafka_queue_new(rk)
	defer C.rd_kafka_queue_destroy(queue)

	list := C.rd_kafka_topic_partition_list_new(C.int(len(partitions)))
	defer C.rd_kafka_topic_partition_list_destroy(list)
	for _, tp := range partitions {
		if tp.Topic == nil {
			return nil, errors.New("offsetdelete: a partition without a topic")
		}
		ct := C.CString(*tp.Topic)
		C.rd_kafka_topic_partition_list_add(list, ct, C.int32_t(tp.Partition))
		C.free(unsafe.Pointer(ct))
	}
	cgroup := C.CString(group)
	defer C.free(unsafe.Pointer(cgroup))
	del := C.rd_kafka_DeleteConsumerGroupOffsets_new(cgroup, list)
	defer C.rd_kafka_DeleteConsumerGroupOffsets_destroy(del)

	opts := C.rd_kafka_AdminOptions_new(rk, C.OFFSETLAB_RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS)
	defer C.rd_kafka_AdminOptions_destroy(opts)
	if C.rd_kafka_AdminOptions_set_request_timeout(opts, C.int(timeout/time.Millisecond), errstr, 512) != 0 {
		return nil, kafka.NewError(kafka.ErrInvalidArg, C.GoString(errstr), false)
	}

	dels := (**C.rd_kafka_DeleteConsumerGroupOffsets_t)(C.malloc(C.size_t(unsafe.Sizeof(del))))
	defer C.free(unsafe.Pointer(dels))
	*dels = del
	C.rd_kafka_DeleteConsumerGroupOffsets(rk, dels, 1, opts, queue)

	// librdkafka answers within the request timeout; poll in short slices
	// so that ctx can end the wait sooner.
	var ev *C.rd_kafka_event_t
	for ev == nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev = C.rd_kafka_queue_poll(queue, 50)
	}
	defer C.rd_kafka_event_destroy(ev)
	if t := C.rd_kafka_event_type(ev); t != C.OFFSETLAB_RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT {
		return nil, fmt.Errorf("offsetdelete: librdkafka answered with event type %d", int(t))
	}
	if code := C.rd_kafka_event_error(ev); code != 0 {
		return nil, kafka.NewError(kafka.ErrorCode(code), C.GoString(C.rd_kafka_event_error_string(ev)), false)
	}
	res := C.rd_kafka_event_DeleteConsumerGroupOffsets_result(ev)
	var cnt C.size_t
	groups := C.rd_kafka_DeleteConsumerGroupOffsets_result_groups(res, &cnt)
	if cnt != 1 {
		return nil, fmt.Errorf("offsetdelete: librdkafka answered for %d groups, want 1", int(cnt))
	}
	g := unsafe.Slice(groups, int(cnt))[0]
	if gerr := C.rd_kafka_group_result_error(g); gerr != nil {
		return nil, kafka.NewError(kafka.ErrorCode(C.rd_kafka_error_code(gerr)), C.GoString(C.rd_kafka_error_string(gerr)), false)
	}
	parts := C.rd_kafka_group_result_partitions(g)
	var out []kafka.TopicPartition
	for i := range int(parts.cnt) {
		e := C.offsetlab_elem(parts, C.int(i))
		topic := C.GoString(e.topic)
		tp := kafka.TopicPartition{Topic: &topic, Partition: int32(e.partition)}
		if e.err != 0 {
			tp.Error = kafka.NewError(kafka.ErrorCode(e.err), C.GoString(C.rd_kafka_err2str(e.err)), false)
		}
		out = append(out, tp)
	}
	return out, nil
}
