package publish

import (
	"context"
	"database/sql"

	"github.com/triggerd/triggerd/internal/store"
)

// Store is what publishing needs of the store: the tenant to publish for,
// the event log, and the subscriptions an event fans out to, all inside the
// publishing transaction. sqlstore.Store satisfies it.
type Store interface {
	// EnsureTenantTx returns the tenant with this name inside tx, creating
	// it if it does not exist.
	EnsureTenantTx(ctx context.Context, tx *sql.Tx, p store.TenantParams) (store.Tenant, error)

	// InsertEventsTx appends events to the log inside tx; an event whose
	// idempotency key the tenant already used is returned as a duplicate.
	InsertEventsTx(ctx context.Context, tx *sql.Tx, events []store.EventParams) ([]store.InsertedEvent, error)

	// ActiveSubscriptionsTx lists the active subscriptions of a tenant's
	// trigger inside tx.
	ActiveSubscriptionsTx(ctx context.Context, tx *sql.Tx, tenantID, trigger string) ([]store.Subscription, error)

	// DB is the database, for the transaction Publish opens itself.
	DB() *sql.DB
}
