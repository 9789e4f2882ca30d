// Package publish accepts events: it validates them against their triggers,
// appends them to the log and schedules one delivery per matching
// subscription, all inside one transaction, so an event is either accepted
// with all its deliveries or not at all.
package publish

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/ident"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// EventsPerRequestMax bounds one publish call, so one request cannot hold
	// the database's single writer for long.
	EventsPerRequestMax = 1000

	// IdempotencyKeyMaxLen bounds the publisher-chosen event id.
	IdempotencyKeyMaxLen = 255
)

// Input is one event to publish.
type Input struct {
	// Type is the trigger name, e.g. "order.created".
	Type string `json:"type"`
	// ID is the publisher's idempotency key: sending it again is not an
	// error and causes no second delivery. Optional.
	ID string `json:"id,omitempty"`
	// Data is the notification body, validated against the trigger's schema.
	Data json.RawMessage `json:"data"`
}

// Result is the outcome of one published event.
type Result struct {
	// ID is triggerd's id of the event, also the webhook-id of its
	// single-mode notifications.
	ID             string `json:"id"`
	Type           string `json:"type"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Duplicate says the idempotency key was seen before; ID is then the
	// earlier event's and nothing new is delivered.
	Duplicate bool `json:"duplicate"`
	// Deliveries counts the subscriptions the event was scheduled for.
	Deliveries int `json:"deliveries"`
}

// InputError is an event that cannot be accepted; nothing of the request is
// stored.
type InputError struct {
	// Index is the event's position in the request.
	Index int
	// Path is where in the event the problem is (e.g. "data/id").
	Path    string
	Message string
	// SchemaMismatch says the data broke the trigger's schema.
	SchemaMismatch bool
}

func (e *InputError) Error() string {
	return fmt.Sprintf("events[%d].%s: %s", e.Index, e.Path, e.Message)
}

// Tenant says whose log events go to. The HTTP API knows the tenant's ID
// from the authenticated key; an application publishing as a library names
// the tenant, which is found, or created if new, inside the publishing
// transaction, so a first event and its tenant commit together.
type Tenant struct {
	// ID is the tenant's id; when set, Name is ignored.
	ID string
	// Name is the tenant's name, used when ID is empty.
	Name string
}

// Publisher appends events and schedules their deliveries. It must not be
// copied after first use: it holds the queue of Publish calls waiting for a
// group commit.
type Publisher struct {
	Store   Store
	Catalog *catalog.Catalog
	Engine  delivery.Engine
	Now     func() time.Time

	// GroupEventsMax bounds the events of one group commit; 0 means
	// GroupEventsMax.
	GroupEventsMax int
	// QueueEventsMax bounds the events waiting for a group commit; 0 means
	// QueueEventsMax.
	QueueEventsMax int

	group group
}

// Validate checks every input without touching the database. It returns the
// first problem as an *InputError.
func (p *Publisher) Validate(inputs []Input) error {
	if len(inputs) == 0 {
		return &InputError{Index: 0, Path: "", Message: "no events: send an object {\"type\":…,\"data\":…} or a non-empty array of them"}
	}
	if len(inputs) > EventsPerRequestMax {
		return &InputError{Index: EventsPerRequestMax, Path: "", Message: fmt.Sprintf("at most %d events per request", EventsPerRequestMax)}
	}
	for i, in := range inputs {
		if in.Type == "" {
			return &InputError{Index: i, Path: "type", Message: "is required: the trigger name, one of " + fmt.Sprint(p.Catalog.TriggerNames())}
		}
		tr, ok := p.Catalog.Trigger(in.Type)
		if !ok {
			return &InputError{Index: i, Path: "type", Message: fmt.Sprintf("%q is not a trigger of this publisher; known: %v", in.Type, p.Catalog.TriggerNames())}
		}
		if len(in.ID) > IdempotencyKeyMaxLen {
			return &InputError{Index: i, Path: "id", Message: fmt.Sprintf("is %d characters; at most %d", len(in.ID), IdempotencyKeyMaxLen)}
		}
		if err := ident.Check("the id", in.ID); err != nil {
			return &InputError{Index: i, Path: "id", Message: err.Error()}
		}
		if len(bytes.TrimSpace(in.Data)) == 0 || bytes.Equal(bytes.TrimSpace(in.Data), []byte("null")) {
			return &InputError{Index: i, Path: "data", Message: "is required: the notification body"}
		}
		if err := tr.ValidateData(in.Data); err != nil {
			var de *catalog.DataError
			if errors.As(err, &de) {
				return &InputError{Index: i, Path: "data" + de.Path, Message: de.Message, SchemaMismatch: true}
			}
			return &InputError{Index: i, Path: "data", Message: err.Error()}
		}
	}
	return nil
}

// PublishTx validates inputs, then appends them to the tenant's log and
// schedules their deliveries inside tx. Nothing is visible to delivery until
// tx commits; if it rolls back, nothing happened.
func (p *Publisher) PublishTx(ctx context.Context, tx *sql.Tx, tenant Tenant, inputs []Input) ([]Result, error) {
	if err := p.Validate(inputs); err != nil {
		return nil, err
	}
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	tenantID, err := p.resolveTx(ctx, tx, tenant)
	if err != nil {
		return nil, err
	}
	// The caller commits, at a moment only it knows: first attempts wait for
	// the queue (no fast path).
	results, ds, err := p.prepareTx(ctx, tx, tenantID, inputs, subscriptionCache{})
	if err != nil {
		return nil, err
	}
	if _, err := p.Engine.EnqueueTx(ctx, tx, ds, false); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return results, nil
}

// checkTenant refuses a Tenant that names no one, before any transaction
// opens.
func checkTenant(t Tenant) error {
	if t.ID == "" && t.Name == "" {
		return errors.New("publish: tenant name is required")
	}
	return nil
}

// resolveTx returns the tenant's id, finding or creating the tenant by name
// inside tx when only the name is known.
func (p *Publisher) resolveTx(ctx context.Context, tx *sql.Tx, t Tenant) (string, error) {
	if t.ID != "" {
		return t.ID, nil
	}
	ten, err := p.Store.EnsureTenantTx(ctx, tx, store.TenantParams{Name: t.Name, NewID: store.NewTenantID(), Now: p.Now()})
	if err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	return ten.ID, nil
}

// prepareTx appends inputs to the tenant's log inside tx and returns the
// deliveries they fan out to, for the caller to schedule with one EnqueueTx
// (per transaction, so a group's fast-path deliveries share one safety-net
// job).
func (p *Publisher) prepareTx(ctx context.Context, tx *sql.Tx, tenantID string, inputs []Input, subsCache subscriptionCache) ([]Result, []delivery.Delivery, error) {
	params, err := p.eventParams(tenantID, inputs)
	if err != nil {
		return nil, nil, err
	}
	inserted, err := p.Store.InsertEventsTx(ctx, tx, params)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: %w", err)
	}
	return p.fanOutTx(ctx, tx, tenantID, inserted, subsCache)
}

// eventParams gives each input its id and compacted data.
func (p *Publisher) eventParams(tenantID string, inputs []Input) ([]store.EventParams, error) {
	now := p.Now()
	params := make([]store.EventParams, len(inputs))
	for i, in := range inputs {
		data, err := compact(in.Data)
		if err != nil {
			return nil, &InputError{Index: i, Path: "data", Message: err.Error()}
		}
		params[i] = store.EventParams{
			ID:             "evt_" + ulid.Make().String(),
			TenantID:       tenantID,
			Type:           in.Type,
			IdempotencyKey: in.ID,
			Data:           data,
			Now:            now,
		}
	}
	return params, nil
}

// fanOutTx answers the inserted events of one request and returns the
// deliveries of the new ones to the tenant's matching subscriptions.
func (p *Publisher) fanOutTx(ctx context.Context, tx *sql.Tx, tenantID string, inserted []store.InsertedEvent, subsCache subscriptionCache) ([]Result, []delivery.Delivery, error) {
	var err error
	results := make([]Result, len(inserted))
	var deliveries []delivery.Delivery
	now := p.Now()
	for i, ins := range inserted {
		ev := ins.Event
		results[i] = Result{ID: ev.ID, Type: ev.Type, IdempotencyKey: ev.IdempotencyKey, Duplicate: ins.Duplicate}
		if ins.Duplicate {
			continue
		}
		tr, _ := p.Catalog.Trigger(ev.Type) // validated above
		key := [2]string{tenantID, ev.Type}
		subs, ok := subsCache[key]
		if !ok {
			if subs, err = p.Store.ActiveSubscriptionsTx(ctx, tx, tenantID, ev.Type); err != nil {
				return nil, nil, fmt.Errorf("publish: %w", err)
			}
			subsCache[key] = subs
		}
		if len(subs) == 0 {
			continue
		}
		var data map[string]any
		if len(tr.Filters) > 0 {
			// Only filtered triggers need the data decoded.
			dec := json.NewDecoder(bytes.NewReader(ev.Data))
			dec.UseNumber()
			_ = dec.Decode(&data) // validated JSON; a non-object simply matches no set filter
		}
		// One slice for the event's deliveries, which only read it, and
		// room for all of them at once (a Delivery is large to copy).
		eventIDs := []string{ev.ID}
		deliveries = slices.Grow(deliveries, len(subs))
		for _, sub := range subs {
			if len(tr.Filters) > 0 && !tr.Match(sub.Filters, data) {
				continue
			}
			d := delivery.Delivery{SubscriptionID: sub.ID, Trigger: ev.Type, EventIDs: eventIDs, MessageID: ev.ID,
				CallbackURL: sub.CallbackURL, Secret: sub.SigningSecrets(now), Data: ev.Data, Concurrency: tr.Concurrency}
			if tr.Mode == catalog.ModeBatch {
				d.Batch = true
				d.EventSeq = ev.Seq
				d.BatchSize = tr.Batch.Size
				d.BatchWindow = time.Duration(tr.Batch.Window)
			}
			deliveries = append(deliveries, d)
			results[i].Deliveries++
		}
	}
	return results, deliveries, nil
}

// Publish validates inputs, then appends them to the tenant's log and
// schedules their deliveries in a transaction it commits itself: when it
// returns without error, the events are durable. Validation happens before
// any transaction, so bad input never holds the database's writer.
//
// Concurrent calls share transactions (group commit, see group.go): while
// one commit is in progress the calls that arrive wait and go together in
// the next, each answered only once the commit holding its events is done.
// A lone call commits at once. When too many events already wait it
// returns ErrOverloaded without storing anything. If ctx ends while the
// call waits in the queue, it is withdrawn and returns ctx's error, with
// nothing stored; once its group's transaction has begun, the call waits
// for that transaction's outcome (bounded by the latest deadline of the
// group's callers), so that what it returns is always true: an error means
// nothing was stored.
//
// Knowing the moment of the commit, it starts first attempts in this
// process right away (the engine's fast path).
func (p *Publisher) Publish(ctx context.Context, tenant Tenant, inputs []Input) ([]Result, error) {
	if err := p.Validate(inputs); err != nil {
		return nil, err
	}
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	req := &groupRequest{ctx: ctx, tenant: tenant, inputs: inputs, done: make(chan struct{})}
	if err := p.submit(req); err != nil {
		return nil, err
	}
	select {
	case <-req.done:
		return req.results, req.err
	case <-ctx.Done():
		if p.withdraw(req) {
			return nil, fmt.Errorf("publish: %w", ctx.Err())
		}
		// The committer has it: its answer, commit or not, is the truth.
		<-req.done
		return req.results, req.err
	}
}

func compact(raw json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %w", err)
	}
	return buf.Bytes(), nil
}
