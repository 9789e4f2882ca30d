package store

import "time"

// SubscriptionQuery selects a page of a tenant's subscriptions that are not
// deleted, in id order (ids are ULIDs, so about creation order).
type SubscriptionQuery struct {
	TenantID string
	// After is the id the page starts after; empty for the first page.
	After string
	Limit int
}

// AttemptQuery selects a page of a tenant's subscription's attempts, newest
// first.
type AttemptQuery struct {
	TenantID       string
	SubscriptionID string
	// Before is the attempt id the page starts before; 0 for the first page.
	Before int64
	// Outcome keeps only attempts with it; empty keeps all.
	Outcome AttemptOutcome
	Limit   int
}

// EventQuery selects a page of a tenant's event log, newest first.
type EventQuery struct {
	TenantID string
	// Type keeps only events of this trigger; empty keeps all.
	Type string
	// Since and Until bound the events' creation time (Since inclusive,
	// Until exclusive); zero means unbounded.
	Since, Until time.Time
	// Before is the seq the page starts before; 0 for the first page.
	Before int64
	Limit  int
}

// DeliveryState is how far an event's delivery to one subscription got.
type DeliveryState string

const (
	// DeliveryDelivered: at least one attempt was answered 2xx.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryPending: the latest attempt failed and another is scheduled.
	DeliveryPending DeliveryState = "pending"
	// DeliveryFailed: no attempt succeeded and none is scheduled.
	DeliveryFailed DeliveryState = "failed"
)

// EventDelivery is an event's deliveries to one subscription, from its
// attempts.
type EventDelivery struct {
	SubscriptionID string
	State          DeliveryState
	Attempts       int
	LastStatus     int
	LastAttemptAt  time.Time
	LastError      string
}

// StateChange sets a tenant's subscription active or inactive by an
// operator's request.
type StateChange struct {
	TenantID       string
	SubscriptionID string
	State          SubscriptionState
	// Reason is the inactive state's reason ("disabled"); ignored when
	// activating.
	Reason string
	Now    time.Time
}

// RedeliveryQuery selects the events of a subscription's trigger in a window,
// oldest first, for a redelivery.
type RedeliveryQuery struct {
	TenantID       string
	SubscriptionID string
	Trigger        string
	// Since is inclusive, Until exclusive.
	Since, Until time.Time
	// OnlyFailed keeps events without a delivered attempt to the
	// subscription.
	OnlyFailed bool
	Limit      int
}
