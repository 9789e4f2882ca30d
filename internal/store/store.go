// Package store is triggerd's durable state: tenants and their API keys, the
// register of subscribers, the event log and the record of delivery attempts.
//
// Every backend implements [Store], and the conformance suite in storetest
// runs against each of them, so the rest of triggerd never needs to know which
// database it runs on. Writes that must commit together with the caller's own
// data (publishing inside an application transaction) take a *sql.Tx.
package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ErrNotFound is returned when a row does not exist, or exists for another
// tenant: callers answer 404 either way, so ids never leak across tenants.
var ErrNotFound = errors.New("not found")

// Tenant owns API keys, subscriptions and events. Nothing crosses tenants.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// SubscriptionState is the life-cycle state of a subscription.
type SubscriptionState string

const (
	// SubscriptionActive receives deliveries.
	SubscriptionActive SubscriptionState = "active"

	// SubscriptionInactive receives nothing; StateReason says why (the
	// callback answered 404 or 410: the flow is gone, power-platform-triggers.md §1.9).
	// Registering the same callback again reactivates it.
	SubscriptionInactive SubscriptionState = "inactive"

	// SubscriptionDeleted was deregistered by DELETE. It is kept so that a
	// second DELETE by its owner still answers 204.
	SubscriptionDeleted SubscriptionState = "deleted"
)

// Subscription is one registered callback for one trigger.
type Subscription struct {
	ID       string
	TenantID string
	Trigger  string
	// CallbackURL is stored byte for byte: its query carries the platform's
	// signature (power-platform-triggers.md §1.8). It is a bearer credential.
	CallbackURL string
	Filters     map[string]string
	// Secret is the Standard Webhooks signing secret ("whsec_…").
	Secret      string
	State       SubscriptionState
	StateReason string
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// LastAttemptAt, LastStatus and LastError describe the latest delivery
	// attempt; ConsecutiveFailures counts failed attempts since the last
	// success. Makers see "the trigger silently stopped" otherwise
	// (trigger-pain-points.md §6, #3). They are derived from the attempts
	// and filled by Subscription and Subscriptions only.
	LastAttemptAt       *time.Time
	LastStatus          int
	LastError           string
	ConsecutiveFailures int
}

// SubscriptionParams registers a subscription.
type SubscriptionParams struct {
	ID          string
	TenantID    string
	Trigger     string
	CallbackURL string
	Filters     map[string]string
	Secret      string
	Now         time.Time
}

// Event is one accepted event in a tenant's log.
type Event struct {
	// Seq orders the log; it grows with every insert.
	Seq      int64
	ID       string
	TenantID string
	Type     string
	// IdempotencyKey is the publisher's own id, unique per tenant.
	IdempotencyKey string
	Data           []byte
	CreatedAt      time.Time
}

// EventParams is an event to append to the log.
type EventParams struct {
	ID             string
	TenantID       string
	Type           string
	IdempotencyKey string
	Data           []byte
	Now            time.Time
}

// InsertedEvent is the outcome of appending one event: the event as stored,
// and whether it was new or an earlier event with the same idempotency key.
type InsertedEvent struct {
	Event     Event
	Duplicate bool
}

// Cursor is a position in the event log in the order polling triggers read
// it. On SQLite that is seq: one writer assigns seq inside a transaction that
// holds the database's write lock until it commits, so seq order is commit
// order. On PostgreSQL it is (XID, Seq): transactions commit in any order, so
// a reader can see seq 10 before seq 9 commits, and a cursor on seq alone
// would skip 9 for ever. XID is the inserting transaction's id (xid8), and
// only events of transactions below the oldest one still running are read,
// so everything up to a cursor is final once it has been read (see
// docs/design-polling.md).
type Cursor struct {
	// XID is the id of the transaction that inserted the event; always 0
	// on SQLite, and for events written before the polling migration.
	XID uint64
	// Seq is the event's seq.
	Seq int64
}

// Less orders cursors as the log does.
func (c Cursor) Less(o Cursor) bool {
	if c.XID != o.XID {
		return c.XID < o.XID
	}
	return c.Seq < o.Seq
}

// LogEntry is an event as a polling trigger reads it.
type LogEntry struct {
	Cursor    Cursor
	ID        string
	Data      []byte
	CreatedAt time.Time
}

// AttemptOutcome classifies a delivery attempt.
type AttemptOutcome string

const (
	// AttemptDelivered means the callback answered 2xx.
	AttemptDelivered AttemptOutcome = "delivered"
	// AttemptRetry means the attempt failed and another is scheduled.
	AttemptRetry AttemptOutcome = "retry"
	// AttemptFailed means the attempt failed and no other will be made.
	AttemptFailed AttemptOutcome = "failed"
	// AttemptGone means the callback answered 404 or 410; the subscription
	// was made inactive.
	AttemptGone AttemptOutcome = "gone"
)

// Attempt is one HTTP request to a callback.
type Attempt struct {
	ID             int64
	SubscriptionID string
	// WebhookID is the Standard Webhooks message id, stable across retries.
	WebhookID string
	EventIDs  []string
	Number    int
	StartedAt time.Time
	Duration  time.Duration
	// Status is the HTTP status, 0 when no response arrived.
	Status  int
	Error   string
	Outcome AttemptOutcome
	// NextAttemptAt is set when Outcome is AttemptRetry.
	NextAttemptAt *time.Time
}

// AttemptRecord is an attempt to store and, when Deactivate is set, the
// reason its subscription becomes inactive (unless it was deleted meanwhile).
type AttemptRecord struct {
	Attempt    Attempt
	Deactivate string
}

// Store is the durable state behind a triggerd publisher.
type Store interface {
	// CreateAPIKey stores the hash of a new key for a tenant, creating the
	// tenant if it is new.
	CreateAPIKey(ctx context.Context, tenantName string, keyHash []byte, newTenantID string, now time.Time) (Tenant, error)

	// EnsureTenantTx returns the tenant with this name inside tx, creating
	// it (with newID) if it does not exist.
	EnsureTenantTx(ctx context.Context, tx *sql.Tx, name, newID string, now time.Time) (Tenant, error)

	// TenantByAPIKey finds the tenant owning a key hash.
	TenantByAPIKey(ctx context.Context, keyHash []byte) (Tenant, error)

	// TenantByName finds a tenant.
	TenantByName(ctx context.Context, name string) (Tenant, error)

	// CreateSubscription registers a callback. If the tenant already has a
	// live subscription with the same trigger and callback URL, that one is
	// returned with created=false instead (the platform re-subscribes on every
	// save of a flow, trigger-pain-points.md §6, #2); its filters are updated
	// to the new ones and it is made active again.
	CreateSubscription(ctx context.Context, p SubscriptionParams) (sub Subscription, created bool, err error)

	// Subscription returns a tenant's subscription, deleted ones included.
	Subscription(ctx context.Context, tenantID, id string) (Subscription, error)

	// SubscriptionByID returns any subscription, for the delivery engine.
	SubscriptionByID(ctx context.Context, id string) (Subscription, error)

	// Subscriptions lists a tenant's subscriptions that are not deleted,
	// oldest first.
	Subscriptions(ctx context.Context, tenantID string) ([]Subscription, error)

	// DeleteSubscription marks a tenant's subscription deleted. Deleting one
	// already deleted succeeds; ErrNotFound means the tenant never owned it.
	DeleteSubscription(ctx context.Context, tenantID, id string, now time.Time) error

	// ActiveSubscriptionsTx lists the active subscriptions of a tenant's
	// trigger inside the publishing transaction.
	ActiveSubscriptionsTx(ctx context.Context, tx *sql.Tx, tenantID, trigger string) ([]Subscription, error)

	// InsertEventsTx appends events to the log inside tx. An event whose
	// idempotency key the tenant already used is not inserted again.
	InsertEventsTx(ctx context.Context, tx *sql.Tx, events []EventParams) ([]InsertedEvent, error)

	// Events returns events by id, in the order asked.
	Events(ctx context.Context, ids []string) ([]Event, error)

	// RecordAttemptsTx stores attempts inside tx (the delivery engine
	// commits many at once, with its queue changes). The ID is set only when
	// one attempt is recorded.
	RecordAttemptsTx(ctx context.Context, tx *sql.Tx, records []AttemptRecord) error

	// AttemptedTx reports, inside tx, which of the (subscription, webhook
	// id) pairs of these webhook ids have at least one recorded attempt.
	AttemptedTx(ctx context.Context, tx *sql.Tx, webhookIDs []string) (map[[2]string]bool, error)

	// Attempts lists the latest attempts of a tenant's subscription, newest
	// first.
	Attempts(ctx context.Context, tenantID, subscriptionID string, limit int) ([]Attempt, error)

	// AddBatchItemTx queues an event for a batch-mode subscription's next
	// notification inside tx and returns how many events now wait for it.
	AddBatchItemTx(ctx context.Context, tx *sql.Tx, subscriptionID string, eventSeq int64, eventID string, now time.Time) (int, error)

	// TakeBatchTx removes up to limit waiting events of a subscription,
	// oldest first, if a batch is due: limit events wait, or the oldest was
	// queued at or before dueBy. It says how many remain and when the oldest
	// remaining one was queued.
	TakeBatchTx(ctx context.Context, tx *sql.Tx, subscriptionID string, limit int, dueBy time.Time) (eventIDs []string, remaining int, oldestRemaining time.Time, err error)

	// EventsAfter returns up to limit events of a tenant's event type that
	// come after the cursor in log order, oldest first. It returns only
	// events whose place in the log is final: no event committed later can
	// sort before one already returned, so a reader that resumes after the
	// last one misses nothing and repeats nothing.
	EventsAfter(ctx context.Context, tenantID, eventType string, after Cursor, limit int) ([]LogEntry, error)

	// LogEnd returns a cursor at the current end of the log: every event
	// whose place is final now is at or before it, and every event that is
	// not final yet will come after it.
	LogEnd(ctx context.Context) (Cursor, error)

	// PrunedThrough returns the highest cursor of an event of a tenant's
	// event type that PruneEvents deleted, or the zero Cursor. An event
	// after a reader's cursor was lost to retention exactly when this is
	// greater than that cursor.
	PrunedThrough(ctx context.Context, tenantID, eventType string) (Cursor, error)

	// PruneEvents deletes up to limit events created before the cutoff that
	// no waiting batch item references, remembering per tenant and event
	// type the highest cursor deleted, and returns how many it deleted. On
	// PostgreSQL only one node prunes at a time: the others delete nothing
	// and return 0.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// EnsureSetting stores value under name unless a value is stored there
	// already, and returns the stored value: nodes that start together on
	// one database all end up with the value the first of them stored.
	EnsureSetting(ctx context.Context, name string, value []byte, now time.Time) ([]byte, error)

	// DB is the database the store lives in, for transactions that span the
	// store and the job queue.
	DB() *sql.DB
}
