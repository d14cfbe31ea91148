package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
)

// Assignment returns the partitions an incarnation's ledger says it owns at
// its end, by partition: every assigned partition not revoked since (a
// revocation with Lost set counts too), and nothing once it has stopped.
// The rebalance protocol does not matter: eager protocols revoke and assign
// everything, cooperative ones (and KIP-848's) only what moves.
func Assignment(inc Incarnation) []TP {
	owned := map[TP]bool{}
	for _, e := range inc.Events {
		switch e.Type {
		case ledger.Assigned:
			for _, o := range e.Partitions {
				owned[offsetTP(o)] = true
			}
		case ledger.Revoked:
			for _, o := range e.Partitions {
				delete(owned, offsetTP(o))
			}
		case ledger.Stopped:
			clear(owned)
		}
	}
	return sortedKeys(owned)
}

// Owners proves that after a rebalance each partition has exactly one
// owner among the consumers still running. live are the incarnations of
// the running processes (a killed process's ledger never records its
// revocation, so it must not be given); partitions are every partition of
// the subscribed topics. It returns the owner of each partition that has
// exactly one, and an *OwnershipError for the first partition, by
// partition, with none or several. The ledgers carry no group generation,
// so the check means something only once the group is stable.
func Owners(live []Incarnation, partitions []TP) (map[TP]string, error) {
	held := map[TP][]string{}
	for _, inc := range live {
		for _, tp := range Assignment(inc) {
			held[tp] = append(held[tp], inc.Name)
		}
	}
	tps := slices.Clone(partitions)
	tp.Sort(tps)
	owners := map[TP]string{}
	var err error
	for _, tp := range tps {
		if names := held[tp]; len(names) == 1 {
			owners[tp] = names[0]
		} else if err == nil {
			err = &OwnershipError{TP: tp, Owners: names}
		}
	}
	return owners, err
}

// OwnershipError says that a partition had no owner, or more than one.
type OwnershipError struct {
	TP     TP
	Owners []string // the running consumers whose ledgers say they own it
}

func (e *OwnershipError) Error() string {
	if len(e.Owners) == 0 {
		return fmt.Sprintf("%s: no running consumer owns it, expected exactly 1 owner", e.TP)
	}
	return fmt.Sprintf("%s: owned by %d consumers (%s), expected exactly 1", e.TP, len(e.Owners), strings.Join(e.Owners, ", "))
}

// Partition is the partition that failed the check.
func (e *OwnershipError) Partition() TP { return e.TP }

// ExitCode is 1: a verification failed.
func (e *OwnershipError) ExitCode() int { return failed }
