package store

import "time"

// SessionParams stores a console session: a browser signed in with an API
// key.
type SessionParams struct {
	// TokenHash is the hash of the session's random token (the cookie's
	// value); the token itself is never stored.
	TokenHash []byte
	// KeyID is the API key the session was signed in with; TenantID its
	// tenant.
	KeyID    string
	TenantID string
	Now      time.Time
	// ExpiresAt is when the session ends, whatever happens meanwhile.
	ExpiresAt time.Time
}

// Session is a stored console session and the API key it acts as, read
// afresh on every request so that a revoked or expired key ends it.
type Session struct {
	KeyID     string
	TenantID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Key is the session's API key as stored now (revoked or expired ones
	// included: the caller decides).
	Key APIKey
}

// OverviewQuery selects what a tenant's overview shows.
type OverviewQuery struct {
	TenantID string
	// Since starts the window of attempts counted by outcome (the last
	// hour).
	Since time.Time
	// Problems bounds each of the two lists of subscriptions needing
	// attention: failing ones, then inactive ones.
	Problems int
	// Retrying are subscriptions known to be failing from elsewhere (a
	// retry waits in the delivery queue), listed among the failing ones
	// when they are the tenant's and active.
	Retrying []string
}

// OutcomeCount is how many attempts of a trigger's subscriptions had an
// outcome in the overview's window.
type OutcomeCount struct {
	Trigger string
	Outcome AttemptOutcome
	Count   int
}

// Overview is a tenant's subscriptions and deliveries at a glance.
type Overview struct {
	// Subscriptions counts the tenant's subscriptions that are not
	// deleted, by trigger and state.
	Subscriptions []SubscriptionCount
	// Attempts counts the attempts since the query's Since by trigger and
	// outcome.
	Attempts []OutcomeCount
	// Problems are the subscriptions that need attention, with their
	// health: active ones whose attempts since Since failed with no success
	// after them, or named by Retrying, first (in id order, at most
	// Problems), then inactive ones, most recently changed first.
	Problems []Subscription
}

// PendingDelivery is a delivery still waiting in the queue (for its first
// attempt or a retry).
type PendingDelivery struct {
	SubscriptionID string
	// MessageID is the delivery's webhook-id (the event id of a single
	// notification).
	MessageID string
	// QueuedAt is when the delivery's current job was queued: a retry is a
	// job of its own, so for a delivery in retries it is when its latest
	// retry was scheduled.
	QueuedAt time.Time
	// Prior counts the attempts made before this one.
	Prior int
}
