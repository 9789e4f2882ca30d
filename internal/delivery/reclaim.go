package delivery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// singleProcess makes a SQLite engine the only one delivering from its
// database file, and reclaims what a previous process left in flight.
//
// River leaves a crashed process's running jobs to its rescuer, which acts
// only after RescueAfter and a leader election, tens of seconds at best. On
// SQLite that wait is needless: an exclusive lock proves no other process
// delivers from this file, so every job still marked running was orphaned by
// a process that died, and can run again at once.
type singleProcess struct {
	lock *os.File
}

func (e *riverEngine) claimDatabase(ctx context.Context) error {
	var path string
	var seq int
	var name string
	if err := e.store.DB().QueryRowContext(ctx, `SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &path); err != nil {
		return fmt.Errorf("find database file: %w", err)
	}
	if path == "" {
		return nil // an in-memory database belongs to this process alone
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock database: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("another triggerd process is already delivering from %s; run one process per SQLite file (use PostgreSQL for several nodes)", path)
		}
		return fmt.Errorf("lock database: %w", err)
	}
	e.single.lock = f

	// The previous process is gone: its running deliveries go back to the
	// queue (an attempt it may have made counts, so receivers may see a
	// duplicate, never a loss), and its leadership is released so scheduled
	// retries resume without waiting for the lease to expire.
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = ?`, queueName); err != nil {
		return fmt.Errorf("reclaim orphaned deliveries: %w", err)
	}
	// Likewise the safety nets of first attempts it was making in-process
	// (fast.go): their grace period exists for a live process only.
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE river_job
		SET state = 'available', scheduled_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
		WHERE state = 'scheduled' AND queue = ? AND EXISTS (SELECT 1 FROM json_each(river_job.tags) WHERE value = ?)`,
		queueName, fastPathTag); err != nil {
		return fmt.Errorf("reclaim orphaned fast-path deliveries: %w", err)
	}
	if _, err := e.store.DB().ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
		return fmt.Errorf("release stale queue leadership: %w", err)
	}
	return nil
}

func (e *riverEngine) releaseDatabase() {
	if e.single.lock != nil {
		_ = syscall.Flock(int(e.single.lock.Fd()), syscall.LOCK_UN)
		e.single.lock.Close()
		e.single.lock = nil
	}
}
