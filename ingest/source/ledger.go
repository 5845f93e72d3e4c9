package source

import (
	"context"
	"fmt"
)

// Ledger records which objects were ingested, by ID. The store implements it
// in ClickHouse; the ingest pipeline records an ID in the same step that
// commits the object's rows, so an object is either done or not at all.
type Ledger interface {
	// Done reports which of ids are already ingested; missing keys mean no.
	Done(ctx context.Context, ids []string) (map[string]bool, error)
}

// ledgerBatch bounds the IDs of one Done call (one IN (…) query).
const ledgerBatch = 1000

// FilterNew returns the objects of objs that l does not know, in order,
// each content once: an object whose ID came earlier in objs (a copy, or
// the same file reached through a link) is left out. The ledger is asked
// for each object's ID and its LegacyID, so that the rows of earlier furrow
// versions still count.
func FilterNew(ctx context.Context, l Ledger, objs []Object) ([]Object, error) {
	out := make([]Object, 0, len(objs))
	seen := make(map[string]bool, len(objs))
	for start := 0; start < len(objs); start += ledgerBatch {
		batch := objs[start:min(start+ledgerBatch, len(objs))]
		ids := make([]string, 0, 2*len(batch))
		for _, o := range batch {
			ids = append(ids, ID(o), LegacyID(o))
		}
		done, err := l.Done(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("ask the ledger about %d objects: %w", len(batch), err)
		}
		for i, o := range batch {
			id := ids[2*i]
			if done[id] || done[ids[2*i+1]] || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// Failures records which objects failed permanently under the running
// binary (see store.Permanent): reading them again would fail again, so a
// poller leaves them alone until the object changes (a new ID) or another
// binary runs. It is kept apart from Ledger on purpose: a failure never
// makes an object count as done.
type Failures interface {
	// Failed reports which of ids failed permanently; missing keys mean no.
	Failed(ctx context.Context, ids []string) (map[string]bool, error)
}

// FilterFailed splits objs into those f does not know as failed, in order,
// and the number it left out.
func FilterFailed(ctx context.Context, f Failures, objs []Object) ([]Object, int, error) {
	out := make([]Object, 0, len(objs))
	for start := 0; start < len(objs); start += ledgerBatch {
		batch := objs[start:min(start+ledgerBatch, len(objs))]
		ids := make([]string, len(batch))
		for i, o := range batch {
			ids[i] = ID(o)
		}
		failed, err := f.Failed(ctx, ids)
		if err != nil {
			return nil, 0, fmt.Errorf("ask which of %d objects failed before: %w", len(ids), err)
		}
		for i, o := range batch {
			if !failed[ids[i]] {
				out = append(out, o)
			}
		}
	}
	return out, len(objs) - len(out), nil
}
