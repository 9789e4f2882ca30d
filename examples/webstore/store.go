package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/triggerd/triggerd"
)

// shop is the web store: its orders, in the database it shares with the
// triggerd publisher that notifies flows about them.
type shop struct {
	db      *sql.DB
	dialect dialect
	pub     *triggerd.Publisher
	log     *slog.Logger
	// publicURL is the base of absolute Location headers, as for triggerd's.
	publicURL string
	now       func() time.Time
}

// Errors of the order operations, which the API turns into statuses.
var (
	errNotFound     = errors.New("order not found")
	errDuplicateKey = errors.New("duplicate order key")
	errConcurrent   = errors.New("order changed concurrently")
)

// createOrder stores a new order and publishes order.created in the same
// transaction: if the INSERT fails (a duplicate key) nothing is published,
// and once the transaction commits the notification is certain to be
// delivered, even if the process dies right after.
func (s *shop) createOrder(ctx context.Context, tenant string, o Order) (Order, error) {
	items, err := json.Marshal(o.LineItems)
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Order{}, fmt.Errorf("create order: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit

	err = tx.QueryRowContext(ctx, s.dialect.rebind(`
		INSERT INTO webstore_order (tenant, order_key, status, currency, total, customer_name, customer_email,
			line_items, version, created_at, modified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
		RETURNING id`),
		tenant, o.OrderKey, o.Status, o.Currency, int64(o.Total), o.Customer.Name, o.Customer.Email,
		string(items), formatTime(o.DateCreated), formatTime(o.DateModified),
	).Scan(&o.ID)
	if isUniqueViolation(err) {
		return Order{}, errDuplicateKey
	}
	if err != nil {
		return Order{}, fmt.Errorf("create order: insert: %w", err)
	}

	// The notification names the order only; flows fetch the rest with Get
	// order details. The idempotency key is the order's: publishing it twice
	// would deliver once.
	if err := s.publish(ctx, tx, tenant, triggerd.Event{
		Type: eventOrderCreated,
		ID:   fmt.Sprintf("order-%d-created", o.ID),
		Data: orderCreated{ID: o.ID, OrderKey: o.OrderKey},
	}); err != nil {
		return Order{}, err
	}
	if err := tx.Commit(); err != nil {
		return Order{}, fmt.Errorf("create order: commit: %w", err)
	}
	return o, nil
}

// updateStatus sets an order's status and publishes order.status_changed in
// the same transaction. Setting the status an order already has changes
// nothing and notifies nobody.
func (s *shop) updateStatus(ctx context.Context, tenant string, id int64, status string) (Order, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Order{}, fmt.Errorf("update order: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit

	o, version, err := s.orderTx(ctx, tx, tenant, id)
	if err != nil {
		return Order{}, err
	}
	if o.Status == status {
		return o, nil
	}
	previous := o.Status
	o.Status, o.DateModified = status, s.now()
	// The version check makes the change conditional on what was read, so
	// two concurrent changes cannot both publish a transition from the same
	// previous status (on SQLite the transaction is exclusive anyway).
	res, err := tx.ExecContext(ctx, s.dialect.rebind(`
		UPDATE webstore_order SET status = ?, version = version + 1, modified_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`),
		o.Status, formatTime(o.DateModified), tenant, id, version)
	if err != nil {
		return Order{}, fmt.Errorf("update order: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Order{}, fmt.Errorf("update order: %w", err)
	} else if n != 1 {
		return Order{}, errConcurrent
	}
	// One event per version: the key stays the same for this change alone.
	if err := s.publish(ctx, tx, tenant, triggerd.Event{
		Type: eventOrderStatusChanged,
		ID:   fmt.Sprintf("order-%d-v%d", id, version+1),
		Data: orderStatusChanged{Order: o, PreviousStatus: previous},
	}); err != nil {
		return Order{}, err
	}
	if err := tx.Commit(); err != nil {
		return Order{}, fmt.Errorf("update order: commit: %w", err)
	}
	return o, nil
}

// publish publishes one event inside tx and logs where it goes.
func (s *shop) publish(ctx context.Context, tx *sql.Tx, tenant string, ev triggerd.Event) error {
	results, err := s.pub.PublishTx(ctx, tx, tenant, ev)
	if err != nil {
		// A *triggerd.InputError here means the event does not match its
		// trigger's schema: a defect of this program, never of the request.
		return fmt.Errorf("publish %s: %w", ev.Type, err)
	}
	for _, r := range results {
		s.log.InfoContext(ctx, "published", "tenant", tenant, "type", r.Type, "event", r.ID,
			"idempotency_key", r.IdempotencyKey, "duplicate", r.Duplicate, "deliveries", r.Deliveries)
	}
	return nil
}

// order returns one of the tenant's orders.
func (s *shop) order(ctx context.Context, tenant string, id int64) (Order, error) {
	row := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT `+orderColumns+` FROM webstore_order WHERE tenant = ? AND id = ?`), tenant, id)
	o, _, err := scanOrder(row)
	return o, err
}

func (s *shop) orderTx(ctx context.Context, tx *sql.Tx, tenant string, id int64) (Order, int64, error) {
	row := tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT `+orderColumns+` FROM webstore_order WHERE tenant = ? AND id = ?`), tenant, id)
	return scanOrder(row)
}

// orders lists the tenant's orders, newest first; status "" means all.
func (s *shop) orders(ctx context.Context, tenant, status string, limit int) ([]Order, error) {
	q := `SELECT ` + orderColumns + ` FROM webstore_order WHERE tenant = ?`
	args := []any{tenant}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	orders := []Order{}
	for rows.Next() {
		o, _, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return orders, nil
}

const orderColumns = `id, order_key, status, currency, total, customer_name, customer_email, line_items, version, created_at, modified_at`

// scanOrder reads a row of orderColumns and returns the order and its
// version.
func scanOrder(row interface{ Scan(...any) error }) (Order, int64, error) {
	var (
		o                 Order
		total, version    int64
		items             string
		created, modified string
	)
	err := row.Scan(&o.ID, &o.OrderKey, &o.Status, &o.Currency, &total, &o.Customer.Name, &o.Customer.Email,
		&items, &version, &created, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, 0, errNotFound
	}
	if err != nil {
		return Order{}, 0, fmt.Errorf("read order: %w", err)
	}
	o.Total = Money(total)
	if err := json.Unmarshal([]byte(items), &o.LineItems); err != nil {
		return Order{}, 0, fmt.Errorf("read order %d: line items: %w", o.ID, err)
	}
	if o.DateCreated, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return Order{}, 0, fmt.Errorf("read order %d: %w", o.ID, err)
	}
	if o.DateModified, err = time.Parse(time.RFC3339Nano, modified); err != nil {
		return Order{}, 0, fmt.Errorf("read order %d: %w", o.ID, err)
	}
	return o, version, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
