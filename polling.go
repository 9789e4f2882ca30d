package triggerd

import (
	"fmt"

	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/poll"
)

// newPolling builds the polling-trigger side of a Publisher from its Config:
// the poller behind GET /v1/trigger/{trigger} and the pruner that keeps the
// event log to its retention. The retention must outlast every pending
// delivery, since a delivery reads its event's data when it runs.
func newPolling(st poll.Store, cfg Config) (*poll.Poller, *poll.Pruner, error) {
	retention, timeout := cfg.EventRetention, cfg.DeliveryTimeout
	if least := delivery.LongestPending(cfg.RetrySchedule, timeout); retention <= least {
		return nil, nil, fmt.Errorf("event retention %s is too short: pending deliveries read their event's data, and the retry schedule "+
			"(with its jitter and a %s timeout per attempt) keeps a delivery pending for up to %s; choose a retention longer than that", retention, timeout, least)
	}
	poller, err := poll.New(poll.Config{
		Store:      st,
		RetryAfter: cfg.PollingRetryAfter,
		PageSize:   cfg.PollingPageSize,
		Key:        cfg.TriggerStateKey,
	})
	if err != nil {
		return nil, nil, err
	}
	return poller, &poll.Pruner{Store: st, Retention: retention, Logger: cfg.Logger}, nil
}
