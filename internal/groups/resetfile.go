package groups

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// bom is the UTF-8 byte order mark.
const bom = "\ufeff"

// WriteResetFile writes a plan's new offsets in the CSV format that
// kafka-consumer-groups --reset-offsets --export writes and --from-file
// reads: one "topic,partition,offset" line per partition.
func WriteResetFile(w io.Writer, plan *Plan) error {
	cw := csv.NewWriter(w)
	for _, r := range plan.Rows {
		if err := cw.Write([]string{r.Topic, strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.New, 10)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadResetFile reads a reset file: "topic,partition,offset" lines, or
// "group,topic,partition,offset" lines as kafka-consumer-groups exports
// several groups, of which only group's are kept. Blank lines are skipped.
//
// A UTF-8 byte order mark, as Excel writes CSV, is skipped (it became part
// of the first topic's name). A line of four fields is read as group,topic,
// partition,offset and checked whole before its group is compared, so a
// three-field line with a stray fourth field is named as such instead of
// being taken for another group's.
func ReadResetFile(r io.Reader, name, group string) ([]FileEntry, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		_, _ = br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	const accepted = "accepted: topic,partition,offset or group,topic,partition,offset per line"
	var entries []FileEntry
	seen := map[TP]int{}
	otherGroups := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cli.Usagef("--from-file %s: %v (%s)", name, err, accepted)
		}
		line, _ := cr.FieldPos(0)
		where := fmt.Sprintf("--from-file %s line %d", name, line)
		lineGroup := group
		switch len(rec) {
		case 3:
		case 4:
			where += " (4 fields: group,topic,partition,offset)"
			lineGroup, rec = strings.TrimSpace(rec[0]), rec[1:]
		default:
			return nil, cli.Usagef("--from-file %s line %d: %d fields (%s)", name, line, len(rec), accepted)
		}
		topic := strings.TrimSpace(rec[0])
		p, perr := strconv.ParseInt(strings.TrimSpace(rec[1]), 10, 32)
		o, oerr := strconv.ParseInt(strings.TrimSpace(rec[2]), 10, 64)
		switch {
		case topic == "":
			return nil, cli.Usagef("%s: empty topic (%s)", where, accepted)
		case perr != nil || p < 0:
			return nil, cli.Usagef("%s: partition %q is not a partition number (%s)", where, rec[1], accepted)
		case oerr != nil || o < 0:
			return nil, cli.Usagef("%s: offset %q is not an offset (0 or more)", where, rec[2])
		}
		if lineGroup != group {
			otherGroups++
			continue
		}
		tp := TP{Topic: topic, Partition: int32(p)}
		if prev, dup := seen[tp]; dup {
			return nil, cli.Usagef("--from-file %s line %d: %s already given on line %d", name, line, tp, prev)
		}
		seen[tp] = line
		entries = append(entries, FileEntry{TP: tp, Offset: o})
	}
	if len(entries) == 0 {
		if otherGroups > 0 {
			return nil, cli.Usagef("--from-file %s has offsets for other groups only, none for %s", name, group)
		}
		return nil, cli.Usagef("--from-file %s holds no offsets (%s)", name, accepted)
	}
	return entries, nil
}

// String shows a target for messages.
func (t Target) String() string {
	switch t.Kind {
	case ToEarliest:
		return "--to-earliest"
	case ToLatest:
		return "--to-latest"
	case ToCurrent:
		return "--to-current"
	case ToOffset:
		return fmt.Sprintf("--to-offset %d", t.Offset)
	case ShiftBy:
		return fmt.Sprintf("--shift-by %+d", t.Shift)
	case ToDatetime:
		return "--to-datetime " + t.Time.Format("2006-01-02T15:04:05.000Z07:00")
	case ByDuration:
		return "--by-duration " + t.Duration.String()
	case FromFile:
		return "--from-file"
	}
	return "no target"
}
