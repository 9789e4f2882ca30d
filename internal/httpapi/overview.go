package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/triggerd/triggerd/internal/store"
)

const (
	// OverviewPath answers a tenant's subscriptions and deliveries at a
	// glance: what the console's Overview shows.
	OverviewPath = "/overview"

	// OverviewWindow is how far back GET /v1/overview counts attempts.
	OverviewWindow = time.Hour

	// OverviewProblems bounds each list of subscriptions needing attention
	// (failing, inactive) in GET /v1/overview.
	OverviewProblems = 20
)

// PendingFinder reads a tenant's part of the delivery queue: the delivery
// that has waited longest, and the subscriptions with a retry waiting.
type PendingFinder interface {
	OldestPending(ctx context.Context, tenantID string) (store.PendingDelivery, bool, error)
	RetryingSubscriptions(ctx context.Context, tenantID string, limit int) ([]string, error)
}

// OverviewView is the answer of GET /v1/overview.
type OverviewView struct {
	Since         time.Time          `json:"since"`
	Triggers      []TriggerOverview  `json:"triggers"`
	Problems      []SubscriptionView `json:"problems"`
	OldestPending *PendingView       `json:"oldestPending"`
}

// TriggerOverview is one trigger's line of the overview: subscriptions by
// state, the last hour's attempts by outcome.
type TriggerOverview struct {
	Trigger       string         `json:"trigger"`
	Subscriptions map[string]int `json:"subscriptions"`
	Attempts      map[string]int `json:"attempts"`
}

// PendingView is the tenant's delivery that has waited longest.
type PendingView struct {
	SubscriptionID string    `json:"subscriptionId"`
	WebhookID      string    `json:"webhookId"`
	QueuedAt       time.Time `json:"queuedAt"`
	Attempt        int       `json:"attempt"`
}

// overview answers GET /v1/overview: per trigger of the catalog, the
// tenant's subscriptions by state and the last hour's attempts by outcome,
// the subscriptions needing attention, and the oldest pending delivery.
func (a *api) overview(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	since := a.Now().Add(-OverviewWindow).UTC()
	q := store.OverviewQuery{TenantID: tenant.ID, Since: since, Problems: OverviewProblems}
	if a.Pending != nil {
		// A subscription in retries may have made its last attempt hours
		// ago: the queue, not the hour's attempts, says it is failing.
		retrying, err := a.Pending.RetryingSubscriptions(r.Context(), tenant.ID, OverviewProblems)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		q.Retrying = retrying
	}
	ov, err := a.Store.Overview(r.Context(), q)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	// Every trigger of the catalog, in its order, zeros included; then any
	// trigger a catalog change left subscriptions of.
	var triggers []TriggerOverview
	index := map[string]int{}
	add := func(name string) *TriggerOverview {
		if i, ok := index[name]; ok {
			return &triggers[i]
		}
		index[name] = len(triggers)
		triggers = append(triggers, TriggerOverview{Trigger: name,
			Subscriptions: map[string]int{string(store.SubscriptionActive): 0, string(store.SubscriptionInactive): 0},
			Attempts: map[string]int{string(store.AttemptDelivered): 0, string(store.AttemptRetry): 0,
				string(store.AttemptFailed): 0, string(store.AttemptGone): 0}})
		return &triggers[len(triggers)-1]
	}
	for _, name := range a.Catalog.TriggerNames() {
		add(name)
	}
	for _, c := range ov.Subscriptions {
		add(c.Trigger).Subscriptions[string(c.State)] += c.Count
	}
	for _, c := range ov.Attempts {
		add(c.Trigger).Attempts[string(c.Outcome)] += c.Count
	}
	v := OverviewView{Since: since, Triggers: triggers, Problems: make([]SubscriptionView, len(ov.Problems))}
	for i, s := range ov.Problems {
		v.Problems[i] = a.view(s)
	}
	if a.Pending != nil {
		p, ok, err := a.Pending.OldestPending(r.Context(), tenant.ID)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		if ok {
			v.OldestPending = &PendingView{SubscriptionID: p.SubscriptionID, WebhookID: p.MessageID, QueuedAt: p.QueuedAt, Attempt: p.Prior + 1}
		}
	}
	writeJSON(w, http.StatusOK, v)
}
