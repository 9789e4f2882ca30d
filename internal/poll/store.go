package poll

import (
	"context"
	"time"

	"github.com/triggerd/triggerd/internal/store"
)

// Store is what polling triggers and the pruner need of the store: reading
// the event log in its final order, knowing what retention removed, and the
// signing key shared by every node. sqlstore.Store satisfies it.
type Store interface {
	// EventsAfter returns a page of final events after a cursor, oldest
	// first.
	EventsAfter(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error)

	// LogEnd returns a cursor at the current end of the log.
	LogEnd(ctx context.Context) (store.Cursor, error)

	// PrunedThrough returns the highest cursor of a tenant's event type that
	// retention deleted, or the zero Cursor.
	PrunedThrough(ctx context.Context, tenantID, eventType string) (store.Cursor, error)

	// PruneEvents deletes up to limit events created before the cutoff and
	// returns how many it deleted.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// EnsureSetting stores value under name unless one is stored already,
	// and returns the stored value.
	EnsureSetting(ctx context.Context, name string, value []byte, now time.Time) ([]byte, error)
}
