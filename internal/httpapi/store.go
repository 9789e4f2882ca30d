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
	apikey.Creator
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

	// RotateSubscriptionSecret replaces the signing secret of a tenant's
	// live subscription, keeping the old one for signing during grace, and
	// returns it; store.ErrNotFound when the tenant has no such
	// subscription or it is deleted.
	RotateSubscriptionSecret(ctx context.Context, tenantID, id, secret string, now time.Time, grace time.Duration) (store.Subscription, error)

	// APIKeys lists a tenant's keys, revoked ones included.
	APIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error)

	// RevokeAPIKey revokes a tenant's key; store.ErrNotFound when the
	// tenant has no such key.
	RevokeAPIKey(ctx context.Context, tenantID, id string, now time.Time) (store.APIKey, error)

	// Attempts lists the latest attempts of a tenant's subscription, newest
	// first.
	Attempts(ctx context.Context, tenantID, subscriptionID string, limit int) ([]store.Attempt, error)

	// Health reads every triggerd table, for GET /healthz.
	Health(ctx context.Context) error

	// DB is the database.
	DB() *sql.DB
}
