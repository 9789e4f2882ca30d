// Package storetest is the conformance suite of the store, run on every
// supported database, and the helpers every test that runs on both
// databases uses to get one ([Backends], [Backend]).
//
// The suite is split by concern, one file each (tenants, subscriptions,
// events, attempts, batches, the event log, settings, operations); every test gets a
// fresh, migrated, empty store.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// Run runs the suite on every backend (see Backends).
func Run(t *testing.T) {
	t.Helper()
	Backends(t, func(t *testing.T, be Backend) {
		s := suite{backend: be}
		t.Run("Tenants", s.tenants)
		t.Run("Subscriptions", s.subscriptions)
		t.Run("Events", s.events)
		t.Run("Attempts", s.attempts)
		t.Run("Batches", s.batches)
		t.Run("EventLog", s.eventLog)
		t.Run("Settings", s.settings)
		t.Run("Operations", s.operations)
		t.Run("Console", s.console)
	})
}

// suite is the conformance suite on one backend.
type suite struct {
	backend Backend
}

// testBundle is a fresh store with one tenant, "acme", whose key is
// "key-acme".
type testBundle struct {
	ctx    context.Context
	st     *sqlstore.Store
	tenant store.Tenant
	now    time.Time
}

// setup returns a fresh store, migrated twice (the second time must be a
// no-op), with the tenant acme.
func (s suite) setup(t *testing.T) *testBundle {
	t.Helper()
	st := s.backend.Store(t)
	require.NoError(t, st.Migrate(context.Background(), nil), "migrating twice is a no-op")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tenant, err := st.CreateAPIKey(context.Background(), store.APIKeyParams{
		Tenant: store.TenantParams{Name: "acme", NewID: id("ten"), Now: now}, KeyHash: hash("key-acme")})
	require.NoError(t, err)
	return &testBundle{ctx: context.Background(), st: st, tenant: tenant, now: now}
}

var seq atomic.Int64

// id returns an id unique in the test binary.
func id(prefix string) string { return fmt.Sprintf("%s_%08d", prefix, seq.Add(1)) }

func subParams(b *testBundle, callback string) store.SubscriptionParams {
	return store.SubscriptionParams{ID: id("sub"), TenantID: b.tenant.ID, Trigger: "order.created",
		CallbackURL: callback, Filters: map[string]string{"status": "new"}, Secret: "whsec_x", Now: b.now}
}

// insertEvents appends events in a transaction of their own.
func insertEvents(t *testing.T, b *testBundle, params ...store.EventParams) []store.InsertedEvent {
	t.Helper()
	tx, err := b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	out, err := b.st.InsertEventsTx(b.ctx, tx, params)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	return out
}

// readFinal reads the log until at least want events are final. On
// PostgreSQL an event becomes final once every transaction older than its
// own has ended, in the whole cluster: a test running beside this one may
// hold one open for a moment.
func readFinal(t *testing.T, st *sqlstore.Store, tenantID, eventType string, after store.Cursor, limit, want int) []store.LogEntry {
	t.Helper()
	var got []store.LogEntry
	eventually(t, fmt.Sprintf("%d events final", want), func() bool {
		var err error
		got, err = st.EventsAfter(context.Background(), store.LogQuery{TenantID: tenantID, EventType: eventType, After: after, Limit: limit})
		require.NoError(t, err)
		return len(got) >= want
	})
	return got
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

func logIDs(entries []store.LogEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// recordAttempt records one attempt in a transaction of its own.
func recordAttempt(ctx context.Context, st *sqlstore.Store, a store.Attempt, deactivate string) error {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := st.RecordAttemptsTx(ctx, tx, []store.AttemptRecord{{Attempt: a, Deactivate: deactivate}}); err != nil {
		return err
	}
	return tx.Commit()
}

// takeBatch is TakeBatchTx with its result spread out, as the assertions
// read it.
func takeBatch(b *testBundle, tx *sql.Tx, subscriptionID string, limit int, dueBy time.Time) ([]string, int, time.Time, error) {
	batch, err := b.st.TakeBatchTx(b.ctx, tx, subscriptionID, limit, dueBy)
	return batch.EventIDs, batch.Remaining, batch.OldestRemaining, err
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
