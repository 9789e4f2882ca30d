package publish

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"sync"
	"time"

	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// GroupEventsMax bounds the events of one group commit: requests that
	// wait together go into one transaction until it holds this many
	// events. A request larger than what is left waits for the next group
	// (a lone request larger than the bound goes alone).
	GroupEventsMax = 1000

	// QueueEventsMax bounds the events waiting for the next group while a
	// commit is in progress. A request that would pass it is refused with
	// ErrOverloaded instead of queued, so memory stays bounded however fast
	// publishers send; with EventsPerRequestMax and the HTTP API's body
	// limit it caps the bytes held as well.
	QueueEventsMax = 10 * GroupEventsMax

	// OverloadRetryAfter is how long a refused publisher should wait
	// before trying again: a group commit takes milliseconds, so a second
	// is ample for the queue to drain.
	OverloadRetryAfter = time.Second

	// groupCommitTimeout bounds one group's transaction (see
	// groupDeadline).
	groupCommitTimeout = 30 * time.Second
)

// ErrOverloaded says too many events are already waiting for a commit: the
// request was refused before anything was stored, and may be sent again
// after OverloadRetryAfter. The HTTP API answers it 503 with Retry-After.
var ErrOverloaded = errors.New("publish: too many events are waiting to be committed; retry later")

// groupRequest is one Publish call waiting for its group's commit.
type groupRequest struct {
	ctx    context.Context
	tenant Tenant
	inputs []Input

	// taken says the committer took the request off the queue (under
	// group.mu): from then on only the committer answers it.
	taken bool

	// Set by the committer before done is closed.
	results []Result
	err     error
	done    chan struct{}
}

func (r *groupRequest) answer(results []Result, err error) {
	r.results, r.err = results, err
	close(r.done)
}

// group is the queue of Publish calls waiting for a commit. There is no
// loop to start or stop: the first request that finds no commit running
// starts a committer goroutine, which takes whatever waits, commits it as
// one group, and ends when nothing waits. An idle publisher therefore adds
// no delay (a lone request commits at once) and holds no goroutine.
type group struct {
	mu      sync.Mutex
	queue   []*groupRequest
	events  int // events in queue
	running bool
	// hook, when set (tests only), runs in the committer before each
	// group, so a test can hold a commit "in progress".
	hook func()
	// committing, when set (tests only), runs once the group's live
	// requests are chosen, before their transaction: from there on they
	// are published whatever their callers' contexts do.
	committing func()
}

// submit queues req, starting a committer if none runs, or refuses it with
// ErrOverloaded when the queue is full. A request always fits an empty
// queue, so a lone large request is never refused.
func (p *Publisher) submit(req *groupRequest) error {
	g := &p.group
	max := p.queueEventsMax()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) > 0 && g.events+len(req.inputs) > max {
		return ErrOverloaded
	}
	g.queue = append(g.queue, req)
	g.events += len(req.inputs)
	if !g.running {
		g.running = true
		go p.commitLoop()
	}
	return nil
}

// next takes the requests of the next group off the queue: at least one,
// then as many as fit GroupEventsMax. It returns nil, and marks the
// committer gone, when nothing waits.
func (p *Publisher) next() []*groupRequest {
	g := &p.group
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running = false
		return nil
	}
	max := p.groupEventsMax()
	n, events := 1, len(g.queue[0].inputs)
	for n < len(g.queue) && events+len(g.queue[n].inputs) <= max {
		events += len(g.queue[n].inputs)
		n++
	}
	batch := make([]*groupRequest, n)
	copy(batch, g.queue)
	for _, r := range batch {
		r.taken = true
	}
	// Shift rather than reslice, so the backing array does not grow
	// forever under steady load.
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:])
	g.queue = g.queue[:rest]
	g.events -= events
	return batch
}

// groupDeadline bounds a group's transaction: by the latest deadline of its
// callers, so none has its events rolled back before its own deadline and a
// caller whose deadline passes mid-commit waits no longer than the latest
// (an API request's is its database bound), and by groupCommitTimeout, which
// also applies when a caller has no deadline. The transaction runs on a
// context of its own, so one caller giving up does not roll back the others.
func groupDeadline(live []*groupRequest, now time.Time) time.Time {
	bound := now.Add(groupCommitTimeout)
	var latest time.Time
	for _, r := range live {
		d, ok := r.ctx.Deadline()
		if !ok {
			return bound
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.IsZero() || latest.After(bound) {
		return bound
	}
	return latest
}

// withdraw takes req off the queue if the committer has not taken it yet,
// and says whether it did: a withdrawn request is never published.
func (p *Publisher) withdraw(req *groupRequest) bool {
	g := &p.group
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.taken {
		return false
	}
	for i, r := range g.queue {
		if r == req {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			g.events -= len(req.inputs)
			return true
		}
	}
	return false
}

func (p *Publisher) commitLoop() {
	for {
		batch := p.next()
		if batch == nil {
			return
		}
		if h := p.group.hook; h != nil {
			h()
		}
		p.commitGroup(batch)
	}
}

func (p *Publisher) groupEventsMax() int {
	if p.GroupEventsMax > 0 {
		return p.GroupEventsMax
	}
	return GroupEventsMax
}

func (p *Publisher) queueEventsMax() int {
	if p.QueueEventsMax > 0 {
		return p.QueueEventsMax
	}
	return QueueEventsMax
}

// commitGroup commits batch and answers every request in it.
func (p *Publisher) commitGroup(batch []*groupRequest) {
	// A caller that gave up while waiting is not published: its events
	// were never part of a transaction, and it is answered so.
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.answer(nil, fmt.Errorf("publish: %w", err))
			continue
		}
		live = append(live, r)
	}
	ctx, cancel := context.WithDeadline(context.Background(), groupDeadline(live, time.Now()))
	defer cancel()
	if h := p.group.committing; h != nil && len(live) > 0 {
		h()
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].answer(p.commitAlone(ctx, live[0]))
		return
	}
	if p.commitFast(ctx, live) {
		return
	}
	retry, err := p.commitTogether(ctx, live)
	if err == nil {
		return
	}
	// The group failed as a whole before its commit (a River insert, a
	// lost connection): each request still unanswered gets a transaction
	// of its own, so whatever caused the failure reaches its own caller
	// alone and the others still publish.
	for _, r := range retry {
		r.answer(p.commitAlone(ctx, r))
	}
}

// commitAlone publishes one request in a transaction of its own.
func (p *Publisher) commitAlone(ctx context.Context, r *groupRequest) ([]Result, error) {
	tx, err := p.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("publish: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	tenantID, err := p.resolveTx(ctx, tx, r.tenant)
	if err != nil {
		return nil, err
	}
	results, ds, err := p.prepareTx(ctx, tx, tenantID, r.inputs, subscriptionCache{})
	if err != nil {
		return nil, err
	}
	dispatch, err := p.Engine.EnqueueTx(ctx, tx, stampTrace(r.ctx, ds), true)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := tx.Commit(); err != nil {
		dispatch.Run(false)
		return nil, fmt.Errorf("publish: commit: %w", err)
	}
	dispatch.Run(true)
	return results, nil
}

// commitFast is the common case of a group: every request succeeds, so all
// their events go into the log with one multi-row insert (the store answers
// a key used earlier in the same insert as a duplicate, in request order,
// which keeps idempotency exact), their deliveries are scheduled with one
// EnqueueTx, and one commit answers them all. It reports whether it
// answered the group. On any error before the commit it rolls back and
// reports false, and commitTogether does the group again, request by
// request behind savepoints, to find whose failure it was; that costs the
// round trips this path saves only when something fails.
func (p *Publisher) commitFast(ctx context.Context, reqs []*groupRequest) bool {
	tx, err := p.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return false
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	tenants := make([]string, len(reqs))
	var params []store.EventParams
	for i, r := range reqs {
		if tenants[i], err = p.resolveTx(ctx, tx, r.tenant); err != nil {
			return false
		}
		ps, err := p.eventParams(tenants[i], r.inputs)
		if err != nil {
			return false
		}
		params = append(params, ps...)
	}
	inserted, err := p.Store.InsertEventsTx(ctx, tx, params)
	if err != nil {
		return false
	}
	var (
		results = make([][]Result, len(reqs))
		all     []delivery.Delivery
		subs    = subscriptionCache{}
	)
	for i, r := range reqs {
		var ds []delivery.Delivery
		if results[i], ds, err = p.fanOutTx(ctx, tx, tenants[i], inserted[:len(r.inputs)], subs); err != nil {
			return false
		}
		inserted = inserted[len(r.inputs):]
		all = append(all, stampTrace(r.ctx, ds)...)
	}
	dispatch, err := p.Engine.EnqueueTx(ctx, tx, all, true)
	if err != nil {
		return false
	}
	if err := tx.Commit(); err != nil {
		dispatch.Run(false)
		err = fmt.Errorf("publish: commit: %w", err)
		for _, r := range reqs {
			r.answer(nil, err)
		}
		return true
	}
	dispatch.Run(true)
	for i, r := range reqs {
		r.answer(results[i], nil)
	}
	return true
}

// savepoint is the one name every request of a group uses in turn: each is
// released (or rolled back to) before the next request starts. SAVEPOINT,
// ROLLBACK TO and RELEASE are the same on SQLite
// (https://www.sqlite.org/lang_savepoint.html) and PostgreSQL
// (https://www.postgresql.org/docs/current/sql-savepoint.html).
const savepoint = "triggerd_publish_request"

// commitTogether publishes the requests of a group in one transaction, each
// behind a savepoint: a request that fails inside the transaction (a
// constraint, a deadlock on PostgreSQL) is rolled back to its savepoint and
// answered its error at once, and the others go on. The deliveries of all
// of them are scheduled with one EnqueueTx, so the fast path gets them at
// once under one safety-net job. The successful requests are answered
// after the commit, never before.
//
// On an error of the group as a whole before the commit it answers nobody
// and returns the requests still to answer, for the caller to retry one by
// one. A failed commit is answered to everyone: its outcome can be unknown
// (a connection lost during COMMIT), and retrying could publish events
// twice.
func (p *Publisher) commitTogether(ctx context.Context, reqs []*groupRequest) ([]*groupRequest, error) {
	tx, err := p.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return reqs, fmt.Errorf("publish: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var (
		ok      = make([]*groupRequest, 0, len(reqs))
		results = make([][]Result, 0, len(reqs))
		all     []delivery.Delivery
		subs    = subscriptionCache{}
	)
	for i, r := range reqs {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
			return append(ok, reqs[i:]...), fmt.Errorf("publish: savepoint: %w", err)
		}
		res, ds, err := p.prepareRequestTx(ctx, tx, r, subs)
		if err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); rerr != nil {
				return append(ok, reqs[i:]...), fmt.Errorf("publish: roll back to savepoint: %w", rerr)
			}
			// Its statements are undone and nothing of it will commit:
			// answering now tells no lie. The subscriptions it read
			// stay valid (reads are not undone).
			r.answer(nil, err)
		} else {
			ok = append(ok, r)
			results = append(results, res)
			all = append(all, stampTrace(r.ctx, ds)...)
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
			return append(ok, reqs[i+1:]...), fmt.Errorf("publish: release savepoint: %w", err)
		}
	}
	if len(ok) == 0 {
		return nil, nil
	}
	dispatch, err := p.Engine.EnqueueTx(ctx, tx, all, true)
	if err != nil {
		return ok, fmt.Errorf("publish: %w", err)
	}
	if err := tx.Commit(); err != nil {
		dispatch.Run(false)
		err = fmt.Errorf("publish: commit: %w", err)
		for _, r := range ok {
			r.answer(nil, err)
		}
		return nil, nil
	}
	dispatch.Run(true)
	for i, r := range ok {
		r.answer(results[i], nil)
	}
	return nil, nil
}

// prepareRequestTx is one request's share of a group: its tenant, its
// events and its deliveries.
func (p *Publisher) prepareRequestTx(ctx context.Context, tx *sql.Tx, r *groupRequest, subs subscriptionCache) ([]Result, []delivery.Delivery, error) {
	tenantID, err := p.resolveTx(ctx, tx, r.tenant)
	if err != nil {
		return nil, nil, err
	}
	return p.prepareTx(ctx, tx, tenantID, r.inputs, subs)
}

// subscriptionCache holds the active subscriptions read in one
// transaction, by tenant and trigger, so a group reads each once.
type subscriptionCache map[[2]string][]store.Subscription

// stampTrace gives each delivery its caller's publishing span: the group's
// transaction runs on a context of its own, so the attempts' spans link to
// the request that published them, not to the committer.
func stampTrace(ctx context.Context, ds []delivery.Delivery) []delivery.Delivery {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		for i := range ds {
			ds[i].Trace = sc
		}
	}
	return ds
}
