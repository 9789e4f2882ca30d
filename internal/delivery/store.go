package delivery

import (
	"context"
	"database/sql"
	"time"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// Store is what the delivery engine needs of the store: the subscription and
// events of a delivery, the record of its attempts, and the waiting events
// of batch-mode subscriptions, plus the database and its dialect, since the
// job queue lives in the same database and commits with the store's writes.
// sqlstore.Store satisfies it.
type Store interface {
	// SubscriptionByID returns any subscription, deleted ones included.
	SubscriptionByID(ctx context.Context, id string) (store.Subscription, error)

	// Events returns events by id, in the order asked.
	Events(ctx context.Context, ids []string) ([]store.Event, error)

	// RecordAttemptsTx stores attempts, and deactivations, inside tx.
	RecordAttemptsTx(ctx context.Context, tx *sql.Tx, records []store.AttemptRecord) error

	// AttemptedTx reports which (subscription, webhook id) pairs of these
	// webhook ids have at least one recorded attempt.
	AttemptedTx(ctx context.Context, tx *sql.Tx, webhookIDs []string) (map[[2]string]bool, error)

	// AddBatchItemTx queues an event for a batch-mode subscription inside
	// tx and returns how many events now wait.
	AddBatchItemTx(ctx context.Context, tx *sql.Tx, p store.BatchItemParams) (int, error)

	// TakeBatchTx takes up to limit waiting events of a subscription if a
	// batch is due (limit events wait, or the oldest was queued at or before
	// dueBy).
	TakeBatchTx(ctx context.Context, tx *sql.Tx, subscriptionID string, limit int, dueBy time.Time) (store.Batch, error)

	// DB is the database the store and the job queue share.
	DB() *sql.DB

	// Dialect picks the job queue's driver and the SQL of reclaim.
	Dialect() sqlstore.Dialect
}
