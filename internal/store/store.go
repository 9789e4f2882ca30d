// Package store is triggerd's durable state: tenants and their API keys, the
// register of subscribers, the event log and the record of delivery attempts.
//
// This package holds the types every part of triggerd shares; the one
// implementation, on database/sql, is sqlstore, checked on every supported
// database by the conformance suite in storetest. There is no interface of
// the whole store here: each consumer (publish, poll, httpapi, delivery,
// apikey) declares the few methods it uses, so its dependencies are visible
// where they are used and its tests know what they must provide. Writes that
// must commit together with the caller's own data (publishing inside an
// application transaction) take a *sql.Tx.
package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
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

// NewTenantID returns a fresh tenant id. A tenant is created both when its
// first key is issued and when an application first publishes for it, so
// both ask here.
func NewTenantID() string { return "ten_" + ulid.Make().String() }

// TenantParams names a tenant to find, or to create with NewID if it does
// not exist yet.
type TenantParams struct {
	Name  string
	NewID string
	Now   time.Time
}

// APIKeyParams stores a new API key for a tenant.
type APIKeyParams struct {
	// Tenant is the key's owner, created if it does not exist yet.
	Tenant TenantParams
	// KeyHash is the key's hash (apikey.Hash); the key itself is never
	// stored.
	KeyHash []byte
	// ID names the key in lists and revocations; empty means a new one.
	ID string
	// Name is the operator's label for the key.
	Name string
	// Scopes are what the key may do (apikey's scopes); empty means admin,
	// as every key issued before scopes existed.
	Scopes []string
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt *time.Time
}

// APIKey is an issued key as stored: never the key itself.
type APIKey struct {
	ID        string
	Tenant    Tenant
	Name      string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// SubscriptionState is the life-cycle state of a subscription.
type SubscriptionState string

const (
	// SubscriptionActive receives deliveries.
	SubscriptionActive SubscriptionState = "active"

	// SubscriptionInactive receives nothing; StateReason says why (the
	// callback answered 404 or 410: the flow is gone, https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
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
	// signature (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger). It is a bearer credential.
	CallbackURL string
	Filters     map[string]string
	// Secret is the Standard Webhooks signing secret ("whsec_…").
	Secret string
	// PreviousSecret is the secret a rotation replaced; deliveries are
	// signed with it too until PreviousSecretUntil.
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	State               SubscriptionState
	StateReason         string
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// LastAttemptAt, LastStatus and LastError describe the latest delivery
	// attempt; ConsecutiveFailures counts failed attempts since the last
	// success. Makers see "the trigger silently stopped" otherwise
	// (https://github.com/microsoft/PowerPlatformConnectors/issues). They are derived from the attempts
	// and filled by Subscription and Subscriptions only.
	LastAttemptAt       *time.Time
	LastStatus          int
	LastError           string
	ConsecutiveFailures int
}

// SigningSecrets is what deliveries at now are signed with: the secret,
// and the previous one while its grace lasts, space-separated (one
// signature each, as Standard Webhooks allows).
func (s Subscription) SigningSecrets(now time.Time) string {
	if s.PreviousSecret != "" && s.PreviousSecretUntil != nil && now.Before(*s.PreviousSecretUntil) {
		return s.Secret + " " + s.PreviousSecret
	}
	return s.Secret
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
	// IdempotencyKey is the publisher's own id, unique per tenant and
	// event type.
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

// IdempotencyConflictError is an event whose idempotency key the tenant
// already used for an event of the same type with different data. Answering
// it as a duplicate would lose the new data silently, and storing it would
// break the key's promise; the request is refused and nothing is stored.
type IdempotencyConflictError struct {
	// Index is the event's position in the request.
	Index int
	// Key and Type name the key; EventID is the earlier event holding it.
	Key, Type, EventID string
}

func (e *IdempotencyConflictError) Error() string {
	return fmt.Sprintf("events[%d]: id %q was already used for a %s event with different data (event %s); publish new data under a new id",
		e.Index, e.Key, e.Type, e.EventID)
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
	// Response is the start of what the receiver answered (at most 1 KiB).
	Response string
}

// AttemptRecord is an attempt to store and, when Deactivate is set, the
// reason its subscription becomes inactive (unless it was deleted meanwhile).
type AttemptRecord struct {
	Attempt    Attempt
	Deactivate string
}

// BatchItemParams queues an event for a batch-mode subscription's next
// notification.
type BatchItemParams struct {
	SubscriptionID string
	// EventSeq orders the batch, and makes queueing the same event twice a
	// no-op.
	EventSeq int64
	EventID  string
	Now      time.Time
}

// Batch is what TakeBatchTx took from a subscription's waiting events.
type Batch struct {
	// EventIDs are the events of the notification to send, oldest first;
	// empty when no batch is due.
	EventIDs []string
	// Remaining is how many events still wait after these.
	Remaining int
	// OldestRemaining is when the oldest remaining event was queued (zero
	// when none remain).
	OldestRemaining time.Time
}

// LogQuery selects a page of a tenant's event log, for EventsAfter.
type LogQuery struct {
	TenantID  string
	EventType string
	// After is the cursor the page starts after.
	After Cursor
	Limit int
}

// SubscriptionCount is how many subscriptions of a trigger, across tenants,
// are in a state.
type SubscriptionCount struct {
	Trigger string
	State   SubscriptionState
	Count   int
}
