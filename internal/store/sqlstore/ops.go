package sqlstore

import (
	"context"
	"fmt"

	"github.com/triggerd/triggerd/internal/store"
)

// SubscriptionCounts counts subscriptions across every tenant by trigger and
// state, deleted ones excepted: the gauge operators alert on, without any
// tenant's name in it.
func (s *Store) SubscriptionCounts(ctx context.Context) ([]store.SubscriptionCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT trigger_name, state, COUNT(*) FROM triggerd_subscription
		WHERE state <> 'deleted' GROUP BY trigger_name, state ORDER BY trigger_name, state`)
	if err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.SubscriptionCount
	for rows.Next() {
		var c store.SubscriptionCount
		var state string
		if err := rows.Scan(&c.Trigger, &state, &c.Count); err != nil {
			return nil, fmt.Errorf("count subscriptions: %w", err)
		}
		c.State = store.SubscriptionState(state)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	return out, nil
}
