package httpapi

import (
	"context"
	"database/sql"
	"time"

	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/store"
)

// Store is what the HTTP API needs of the store: authenticating keys, and
// registering, listing, inspecting and deleting a tenant's subscriptions.
// sqlstore.Store satisfies it.
type Store interface {
	apikey.Finder
	opsStore

	// CreateSubscription registers a callback, or returns the tenant's live
	// subscription with the same trigger and callback URL (created=false),
	// updated to the new filters and made active again.
	CreateSubscription(ctx context.Context, p store.SubscriptionParams) (sub store.Subscription, created bool, err error)

	// Subscription returns a tenant's subscription, deleted ones included.
	Subscription(ctx context.Context, tenantID, id string) (store.Subscription, error)

	// Subscriptions lists a tenant's subscriptions that are not deleted.
	Subscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error)

	// DeleteSubscription marks a tenant's subscription deleted;
	// store.ErrNotFound means the tenant never owned it.
	DeleteSubscription(ctx context.Context, tenantID, id string, now time.Time) error

	// Attempts lists the latest attempts of a tenant's subscription, newest
	// first.
	Attempts(ctx context.Context, tenantID, subscriptionID string, limit int) ([]store.Attempt, error)

	// DB is the database, pinged by GET /healthz.
	DB() *sql.DB
}
