package triggerd_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/publish"
)

// TestFullGroupQueueAnswers503 holds the commit in progress on PostgreSQL
// (a lock on the event table, which the group's INSERT waits for) and sends
// more events than one group in progress and a full queue hold: the
// requests past the bound are answered 503 with Retry-After at once and
// store nothing; every other one is answered 202 once the lock goes.
func TestFullGroupQueueAnswers503(t *testing.T) {
	t.Parallel()
	// SQLite has one connection, which a held transaction would take from
	// the API's authentication too; the PostgreSQL run proves the HTTP
	// mapping, internal/publish proves the queue's bound on both.
	b := setup(t, &setupOpts{postgres: true, noStart: true})
	lock, err := b.db.BeginTx(b.ctx, nil)
	require.NoError(t, err)
	defer lock.Rollback() //nolint:errcheck // committed below
	_, err = lock.ExecContext(b.ctx, `LOCK TABLE triggerd_event IN EXCLUSIVE MODE`)
	require.NoError(t, err)

	events := make([]map[string]any, publish.EventsPerRequestMax)
	for i := range events {
		events[i] = map[string]any{"type": "order.created", "data": order(i, "new")}
	}
	body, err := json.Marshal(events)
	require.NoError(t, err)

	// One group in progress holds GroupEventsMax events and the queue
	// QueueEventsMax: of these requests, at most that many are taken in.
	const requests = (publish.GroupEventsMax+publish.QueueEventsMax)/publish.EventsPerRequestMax + 4
	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	answers := make(chan answer, requests)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.api.URL+"/v1/events", bytes.NewReader(body))
			if err != nil {
				answers <- answer{body: err.Error()}
				return
			}
			req.Header.Set(triggerd.APIKeyHeader, b.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(raw)}
		})
	}
	// The refused requests are answered while the lock still holds the
	// others.
	for range 4 {
		a := <-answers
		require.Equal(t, http.StatusServiceUnavailable, a.status, a.body)
		require.Equal(t, "1", a.retryAfter)
		require.Contains(t, a.body, `"overloaded"`)
	}
	require.NoError(t, lock.Commit())
	wg.Wait()
	close(answers)
	accepted := 0
	for a := range answers {
		if a.status == http.StatusAccepted {
			accepted++
			continue
		}
		require.Equal(t, http.StatusServiceUnavailable, a.status, a.body)
	}
	require.Positive(t, accepted)
	var stored int
	require.NoError(t, b.db.QueryRowContext(b.ctx, `SELECT COUNT(*) FROM triggerd_event`).Scan(&stored))
	require.Equal(t, accepted*publish.EventsPerRequestMax, stored, "a refused request stores nothing")
}
