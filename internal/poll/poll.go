// Package poll serves polling triggers from the event log every event is
// already appended to, so a connector offers the same events as a webhook
// trigger and as a polling trigger (https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app).
//
// The protocol is the Logic Apps polling-trigger pattern with the state kept
// by the API (https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app): the platform calls the operation; with no state,
// or nothing new, the answer is 202 with a Location that carries the state
// and a Retry-After; with new events it is 200 with {"value": [...]}, a
// Location with the state after the last of them and Retry-After 0 while
// more pages wait. The state is a signed cursor into the log (see state.go
// and store.Cursor): it cannot be forged to read another tenant's events or
// to skip the filters, and a cursor on the log's commit order never loses or
// repeats an event at a page boundary: the polling bugs connector authors
// report most (lost and repeated items, https://github.com/microsoft/PowerPlatformConnectors/issues).
package poll

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// RetryAfterDefault is the Retry-After of a poll with nothing more to
	// read: the 15 seconds of Microsoft's polling samples (https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app).
	RetryAfterDefault = 15 * time.Second

	// PageSizeDefault is how many events one 200 carries at most (a
	// bounded page, e.g. 100).
	PageSizeDefault = 100

	// PageSizeMax bounds the page: every event of it starts a run, and the
	// response must stay far below the platform's message limit (https://learn.microsoft.com/en-us/power-automate/limits-and-config).
	PageSizeMax = 1000

	// KeyMinLen is the shortest signing key accepted, in bytes.
	KeyMinLen = 32

	// StateParameter is the query parameter that carries the trigger state
	// (the polling pattern, https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app: "the location header should also contain a triggerState query
	// parameter").
	StateParameter = "triggerState"

	// PrunedHeader is set to "true" on a response when events after the
	// state sent were deleted by retention before they were read: the
	// poller resumes at the oldest event still kept. It may appear on
	// several responses in a row while the poller catches up.
	PrunedHeader = "X-Triggerd-Events-Pruned"

	// scanPages bounds the log rows one poll reads, in pages: with
	// filters, a poll may skip many events that do not match, and must
	// still answer in time. It answers with the state it reached and
	// Retry-After 0.
	scanPages = 10

	// keySetting names the stored signing key (store.EnsureSetting).
	keySetting = "trigger_state_key"
)

// Config configures a Poller. Zero fields take the defaults above.
type Config struct {
	Store Store
	// RetryAfter is the Retry-After when nothing more waits; whole
	// seconds, at least one.
	RetryAfter time.Duration
	// PageSize is the most events one response carries.
	PageSize int
	// Key signs trigger states; at least KeyMinLen bytes. Empty means a
	// random key stored in the database on first use, so every node of a
	// deployment signs with the same one.
	Key []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Poller answers polls.
type Poller struct {
	cfg Config

	mu  sync.Mutex
	key []byte
}

// New returns a Poller, checking the configuration.
func New(cfg Config) (*Poller, error) {
	if cfg.Store == nil {
		return nil, errors.New("poll: a store is required")
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = RetryAfterDefault
	}
	if cfg.RetryAfter < time.Second {
		return nil, fmt.Errorf("polling Retry-After is %s; it must be at least 1s (the header counts whole seconds)", cfg.RetryAfter)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = PageSizeDefault
	}
	if cfg.PageSize < 1 || cfg.PageSize > PageSizeMax {
		return nil, fmt.Errorf("polling page size is %d; it must be between 1 and %d", cfg.PageSize, PageSizeMax)
	}
	if len(cfg.Key) > 0 && len(cfg.Key) < KeyMinLen {
		return nil, fmt.Errorf("trigger state key is %d bytes; it must be at least %d (e.g. the output of `openssl rand -base64 32`)", len(cfg.Key), KeyMinLen)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Poller{cfg: cfg}
	if len(cfg.Key) > 0 {
		p.key = bytes.Clone(cfg.Key)
	}
	return p, nil
}

// RetryAfter is the configured Retry-After, rounded up to whole seconds.
func (p *Poller) RetryAfter() time.Duration {
	return (p.cfg.RetryAfter + time.Second - 1).Truncate(time.Second)
}

// signingKey returns the configured key, or the deployment's stored one,
// creating it on first use.
func (p *Poller) signingKey(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		return p.key, nil
	}
	fresh := make([]byte, KeyMinLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("poll: create signing key: %w", err)
	}
	key, err := p.cfg.Store.EnsureSetting(ctx, keySetting, fresh, p.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("poll: signing key: %w", err)
	}
	if len(key) < KeyMinLen {
		return nil, fmt.Errorf("poll: the stored signing key (setting %s) is %d bytes; delete it to have a new one made", keySetting, len(key))
	}
	p.key = key
	return key, nil
}

// Request is one poll.
type Request struct {
	TenantID string
	Trigger  *catalog.Trigger
	// Filters are the filter values the poller set; empty values are
	// ignored.
	Filters map[string]string
	// State is the triggerState sent, "" on the first call.
	State string
}

// Result is the answer to a poll.
type Result struct {
	// Events are the data of the new matching events, oldest first. Empty
	// means 202.
	Events []json.RawMessage
	// State is the triggerState of the next call: the same as the
	// request's when nothing was read.
	State string
	// RetryAfter is how long to wait before the next call: 0 while more
	// of the log waits.
	RetryAfter time.Duration
	// Pruned reports that events after the request's state were deleted by
	// retention before they were read (see PrunedHeader).
	Pruned bool
}

// Poll answers one poll: without a state, a state at the end of the log;
// with one, the matching events after it, at most a page. Events that do not
// match the filters are skipped, and the state still moves past them.
func (p *Poller) Poll(ctx context.Context, req Request) (Result, error) {
	key, err := p.signingKey(ctx)
	if err != nil {
		return Result{}, err
	}
	b := binding{tenantID: req.TenantID, trigger: req.Trigger.Name, filters: req.Filters}
	if req.State == "" {
		// The first call establishes the state (https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app): events from now on.
		end, err := p.cfg.Store.LogEnd(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("poll: %w", err)
		}
		return Result{State: encodeState(key, b, end), RetryAfter: p.RetryAfter()}, nil
	}
	start, err := decodeState(key, b, req.State)
	if err != nil {
		return Result{}, err
	}

	filtered := false
	for _, v := range req.Filters {
		filtered = filtered || v != ""
	}
	size := p.cfg.PageSize
	cursor := start
	var (
		events  []json.RawMessage
		more    bool
		scanned int
	)
scan:
	for {
		// One row more than a page tells whether the log goes on.
		rows, err := p.cfg.Store.EventsAfter(ctx, store.LogQuery{TenantID: req.TenantID, EventType: req.Trigger.Name, After: cursor, Limit: size + 1})
		if err != nil {
			return Result{}, fmt.Errorf("poll: %w", err)
		}
		goesOn := len(rows) > size
		if goesOn {
			rows = rows[:size]
		}
		for i, row := range rows {
			cursor = row.Cursor
			scanned++
			if !filtered || matches(req.Trigger, req.Filters, row.Data) {
				events = append(events, row.Data)
			}
			if len(events) == size {
				more = goesOn || i < len(rows)-1
				break scan
			}
		}
		if !goesOn {
			break
		}
		if scanned >= scanPages*size {
			more = true
			break
		}
	}

	// Read after the rows: an event pruned while they were read is then
	// reported, never lost in silence.
	prunedThrough, err := p.cfg.Store.PrunedThrough(ctx, req.TenantID, req.Trigger.Name)
	if err != nil {
		return Result{}, fmt.Errorf("poll: %w", err)
	}
	res := Result{Events: events, Pruned: start.Less(prunedThrough), RetryAfter: p.RetryAfter()}
	if more {
		res.RetryAfter = 0
	}
	res.State = req.State
	if cursor != start {
		res.State = encodeState(key, b, cursor)
	}
	return res, nil
}

func matches(t *catalog.Trigger, filters map[string]string, data []byte) bool {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	_ = dec.Decode(&m) // validated at publish; a non-object matches no set filter
	return t.Match(filters, m)
}
