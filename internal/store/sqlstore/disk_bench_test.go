package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// BenchmarkAttemptDiskUse records diskAttempts delivered attempts, as the
// engine's group commit does (512 per transaction), and reports the disk they
// take per attempt and per million, indexes included: the figure
// docs/operations.md gives for sizing --attempt-retention. Run it with
// -benchtime=1x; b.N does not change what it writes.
func BenchmarkAttemptDiskUse(b *testing.B) {
	const diskAttempts = 200_000
	backends(b, 100, func(b *testing.B, s *benchStore) {
		ctx := context.Background()
		for range b.N {
			before := diskSize(b, s.st)
			now := time.Now()
			records := make([]store.AttemptRecord, 0, 512)
			for i := 0; i < diskAttempts; {
				records = records[:0]
				for ; len(records) < 512 && i < diskAttempts; i++ {
					id := "evt_" + ulid.Make().String()
					records = append(records, store.AttemptRecord{Attempt: store.Attempt{
						SubscriptionID: s.subs[i%len(s.subs)].ID, WebhookID: id, EventIDs: []string{id}, Number: 1,
						StartedAt: now, Duration: 42 * time.Millisecond, Status: 202, Outcome: store.AttemptDelivered,
						Response: `{"status":"accepted"}`,
					}})
				}
				tx, err := s.st.DB().BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.st.RecordAttemptsTx(ctx, tx, records); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			used := diskSize(b, s.st) - before
			b.ReportMetric(float64(used)/diskAttempts, "bytes/attempt")
			b.ReportMetric(float64(used)/diskAttempts, "MB/million")
		}
	})
}

// diskSize is the database's size on disk: SQLite's pages after a
// checkpoint, or PostgreSQL's attempts table with its indexes and TOAST.
func diskSize(b *testing.B, st *sqlstore.Store) int64 {
	b.Helper()
	db := st.DB()
	var n int64
	if st.Dialect() == sqlstore.Postgres {
		if err := db.QueryRow(`SELECT pg_total_relation_size('triggerd_attempt')`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var pages, size int64
	if err := db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	return pages * size
}
