package delivery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/signature"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// The job queue's share of every delivery: one River job is inserted per
// (event, subscription) when the event is published, fetched (marked
// running) by a producer, and completed after the POST. These benchmarks
// measure each step per job, per backend, through the same driver the engine
// uses; PostgreSQL runs when TRIGGERD_TEST_DATABASE_URL is set.

type benchQueue struct {
	st     *sqlstore.Store
	engine *riverEngine
	exec   riverdriver.Executor
}

func queueBackends(b *testing.B, fn func(b *testing.B, q *benchQueue)) {
	storetest.BenchBackends(b, func(b *testing.B, be storetest.Backend) {
		ctx := context.Background()
		st := be.Store(b)
		db, dialect := st.DB(), st.Dialect()
		if err := Migrate(ctx, db, dialect); err != nil {
			b.Fatal(err)
		}
		eng, err := New(st, Config{Timeout: TimeoutDefault, Workers: WorkersDefault, RescueAfter: TimeoutDefault + RescueAfterMargin, RetrySchedule: DefaultRetrySchedule()})
		if err != nil {
			b.Fatal(err)
		}
		var exec riverdriver.Executor
		if dialect == sqlstore.SQLite {
			exec = riversqlite.New(db).GetExecutor()
		} else {
			exec = riverdatabasesql.New(db).GetExecutor()
		}
		fn(b, &benchQueue{st: st, engine: eng.(*riverEngine), exec: exec})
	})
}

// enqueue inserts n delivery jobs in one transaction and commits, as
// publishing one event to n subscriptions (or a batch of n events to one)
// does.
func (q *benchQueue) enqueue(b *testing.B, n int) {
	ctx := context.Background()
	ds := make([]Delivery, n)
	for i := range ds {
		id := fmt.Sprintf("evt_%06d", i)
		ds[i] = Delivery{SubscriptionID: fmt.Sprintf("sub_%06d", i), EventIDs: []string{id}, MessageID: id}
	}
	tx, err := q.st.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := q.engine.EnqueueTx(ctx, tx, ds, false); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// fetch marks up to n available jobs running, as a producer does.
func (q *benchQueue) fetch(b *testing.B, n int) []*rivertype.JobRow {
	now := time.Now()
	res, err := q.exec.JobGetAvailable(context.Background(), &riverdriver.JobGetAvailableParams{
		ClientID: "bench", MaxAttemptedBy: 100, MaxToLock: n, Now: &now, Queue: queueName,
	})
	if err != nil {
		b.Fatal(err)
	}
	return res.Jobs
}

// BenchmarkEnqueueTx inserts the jobs of one publish request: 100 (a batch of
// 100 events to one subscription) or 1,000 (one event to 1,000).
func BenchmarkEnqueueTx(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			queueBackends(b, func(b *testing.B, q *benchQueue) {
				b.ReportAllocs()
				for b.Loop() {
					q.enqueue(b, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/job")
			})
		})
	}
}

// BenchmarkFetchJobs is a producer's fetch of 100 available jobs.
func BenchmarkFetchJobs(b *testing.B) {
	const n = 100
	queueBackends(b, func(b *testing.B, q *benchQueue) {
		var fetched time.Duration
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			q.enqueue(b, n)
			b.StartTimer()
			start := time.Now()
			if got := len(q.fetch(b, n)); got != n {
				b.Fatalf("fetched %d jobs, want %d", got, n)
			}
			fetched += time.Since(start)
		}
		b.ReportMetric(float64(fetched.Nanoseconds())/float64(b.N*n), "ns/job")
	})
}

// BenchmarkCompleteJobs is River's batch completer marking 100 finished
// jobs completed in one call: one transaction, but on SQLite one UPDATE
// statement per job.
func BenchmarkCompleteJobs(b *testing.B) {
	const n = 100
	queueBackends(b, func(b *testing.B, q *benchQueue) {
		var completed time.Duration
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			q.enqueue(b, n)
			jobs := q.fetch(b, n)
			now := time.Now()
			p := &riverdriver.JobSetStateIfRunningManyParams{Now: &now}
			for _, j := range jobs {
				s := riverdriver.JobSetStateCompleted(j.ID, now, nil)
				p.ID = append(p.ID, s.ID)
				p.Attempt = append(p.Attempt, s.Attempt)
				p.ErrData = append(p.ErrData, s.ErrData)
				p.FinalizedAt = append(p.FinalizedAt, s.FinalizedAt)
				p.MetadataDoMerge = append(p.MetadataDoMerge, s.MetadataDoMerge)
				p.MetadataUpdates = append(p.MetadataUpdates, s.MetadataUpdates)
				p.ScheduledAt = append(p.ScheduledAt, s.ScheduledAt)
				p.State = append(p.State, s.State)
			}
			b.StartTimer()
			start := time.Now()
			rows, err := q.exec.JobSetStateIfRunningMany(context.Background(), p)
			if err != nil {
				b.Fatal(err)
			}
			completed += time.Since(start)
			if len(rows) != n {
				b.Fatalf("completed %d jobs, want %d", len(rows), n)
			}
		}
		b.ReportMetric(float64(completed.Nanoseconds())/float64(b.N*n), "ns/job")
	})
}

// BenchmarkSend is one signed POST of a notification to a loopback
// receiver that answers 204, as every delivery makes it: building the
// request, signing, the round trip and reading the answer. Its allocs/op
// are the sender's share of a delivery's garbage.
func BenchmarkSend(b *testing.B) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.Close)
	s := newSender(&netguard.Guard{AllowPrivate: true}, 5*time.Second, "triggerd/bench", true)
	secret, err := signature.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":123,"order_key":"wc_order_abc","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`)
	url := rc.URL + "/hook?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := s.send(ctx, url, secret, "evt_01JD3ZQ8W4X2V9K7M5N3P1R6T0", body, time.Now()); res.Err != nil || res.Status != http.StatusNoContent {
			b.Fatalf("send: %d %v", res.Status, res.Err)
		}
	}
}
