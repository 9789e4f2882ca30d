package triggerd

import (
	"cmp"
	"log/slog"
	"slices"
	"time"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/delivery"
)

// DefaultRetrySchedule returns a copy of the default delays before each retry
// of a failed delivery: Standard Webhooks' example schedule, about 80 hours in
// all. It is a function so that no caller can change the default for others.
func DefaultRetrySchedule() []time.Duration { return delivery.DefaultRetrySchedule() }

// RescueAfterMargin is what Config.RescueAfter adds to the delivery timeout
// by default; RescueAfterMinMargin is the least it may add.
const (
	RescueAfterMargin    = delivery.RescueAfterMargin
	RescueAfterMinMargin = delivery.RescueAfterMinMargin
)

// withDefaults resolves the zero fields of a Config, once: everything after
// New reads the resolved values. The defaults of the polling API and the
// request-size limit are resolved by the packages that own them (their
// constants are re-exported above), so no default is applied twice.
func (c Config) withDefaults() Config {
	if c.Catalog == nil {
		c.Catalog = catalog.Demo()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.DeliveryTimeout = cmp.Or(c.DeliveryTimeout, DeliveryTimeoutDefault)
	c.DeliveryWorkers = cmp.Or(c.DeliveryWorkers, DeliveryWorkersDefault)
	if c.RetrySchedule == nil {
		c.RetrySchedule = DefaultRetrySchedule()
	} else {
		// A copy, so the caller's slice can change without touching the
		// engine's schedule.
		c.RetrySchedule = slices.Clone(c.RetrySchedule)
	}
	c.RescueAfter = cmp.Or(c.RescueAfter, c.DeliveryTimeout+RescueAfterMargin)
	c.EventRetention = cmp.Or(c.EventRetention, EventRetentionDefault)
	c.AttemptRetention = cmp.Or(c.AttemptRetention, AttemptRetentionDefault)
	c.DisableAfter = cmp.Or(c.DisableAfter, DisableAfterDefault)
	c.ConsoleSessionLifetime = cmp.Or(c.ConsoleSessionLifetime, ConsoleSessionLifetimeDefault)
	c.DatabaseWait = cmp.Or(c.DatabaseWait, DatabaseWaitDefault)
	return c
}
