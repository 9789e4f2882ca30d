package triggerd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// Start-up bounds.
const (
	// StartupWaitDefault is how long opening the store keeps retrying a
	// database that is locked or unreachable, saying so in the log each
	// time, before it gives up: long enough for a backup's or another
	// program's transaction to end, short enough that a supervisor sees the
	// failure.
	StartupWaitDefault = 30 * time.Second

	// QuickCheckMax bounds SQLite's page check at start-up. A larger file
	// is checked for this long and the log says the check was cut short;
	// `triggerd check` runs the full check without a bound.
	QuickCheckMax = 10 * time.Second

	startupRetryEvery = time.Second
)

// ErrDamaged is returned when the SQLite file fails its page check: triggerd
// refuses to start on it rather than answer requests from a file that loses
// or invents data.
var ErrDamaged = errors.New("the database file is damaged")

// openStore migrates db (triggerd's tables and the job queue's) and returns
// the store on it. A database that is locked or unreachable is retried for
// StartupWaitDefault with a log line per try; a damaged SQLite file is
// refused with a message naming the file and how to restore it.
func openStore(ctx context.Context, db *sql.DB, logger *slog.Logger) (*sqlstore.Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialect, err := sqlstore.DetectDialect(db)
	if err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	st, err := sqlstore.New(db, dialect)
	if err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	if err := quickCheck(ctx, st, logger); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(StartupWaitDefault)
	for {
		err = st.Migrate(ctx, func(ctx context.Context) error {
			return delivery.Migrate(ctx, db, dialect)
		})
		reason, unavailable := sqlstore.Unavailable(err)
		if err == nil || !unavailable || strings.Contains(reason, "damaged") || time.Now().After(deadline) {
			break
		}
		logger.Warn("database not ready; retrying", "reason", reason, "retry_for", time.Until(deadline).Round(time.Second).String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("triggerd: migrate: %w", ctx.Err())
		case <-time.After(startupRetryEvery):
		}
	}
	if err != nil {
		if reason, ok := sqlstore.Unavailable(err); ok {
			return nil, fmt.Errorf("triggerd: %s (gave up after %s): %w", reason, StartupWaitDefault, err)
		}
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	return st, nil
}

// quickCheck runs SQLite's page check, bounded by QuickCheckMax, and
// refuses a damaged file.
func quickCheck(ctx context.Context, st *sqlstore.Store, logger *slog.Logger) error {
	if st.Dialect() != sqlstore.SQLite {
		return nil
	}
	file := sqliteFile(ctx, st.DB())
	cctx, cancel := context.WithTimeout(ctx, QuickCheckMax)
	defer cancel()
	start := time.Now()
	problems, err := st.QuickCheck(cctx)
	switch {
	case err != nil && cctx.Err() != nil:
		logger.Warn("database page check cut short at start-up; run `triggerd check` for the full check", "file", file, "checked_for", QuickCheckMax.String())
		return nil
	case err != nil:
		if reason, ok := sqlstore.Unavailable(err); ok && !strings.Contains(reason, "damaged") {
			// Locked: the migration below retries and says so.
			logger.Warn("database page check skipped", "file", file, "reason", reason)
			return nil
		}
		return fmt.Errorf("triggerd: check %s: %w", file, err)
	case len(problems) > 0:
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return fmt.Errorf("triggerd: %w: %s failed SQLite's quick_check (%s); stop triggerd, move the file aside and restore the last backup "+
			"(docs/operations.md, \"Backup and restore\"), or run `triggerd check --db %s` for the full report",
			ErrDamaged, file, strings.Join(problems, "; "), file)
	}
	logger.Info("database page check passed", "file", file, "check", "quick_check", "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// sqliteFile is the path of the main database file, for messages.
func sqliteFile(ctx context.Context, db *sql.DB) string {
	var seq int
	var name, file string
	if err := db.QueryRowContext(ctx, `SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &file); err != nil || file == "" {
		return "the database"
	}
	return file
}

// Check runs the full consistency check on db: SQLite's integrity_check, or
// on PostgreSQL that every table exists and the schema is at this version.
// It returns the problems found; none means the database is sound.
func Check(ctx context.Context, db *sql.DB) ([]string, error) {
	dialect, err := sqlstore.DetectDialect(db)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	st, err := sqlstore.New(db, dialect)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return st.IntegrityCheck(ctx)
}
