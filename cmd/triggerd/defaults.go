package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/bench"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/poll"
)

// ShutdownTimeoutDefault is how long a drain lets attempts in flight
// finish: the delivery timeout, so an attempt begun just before SIGTERM can
// end on its own.
const ShutdownTimeoutDefault = triggerd.DeliveryTimeoutDefault

// defaultVars are the flags' defaults, written from the library's named
// defaults so that --help and the behaviour cannot drift apart
// (TestServeDefaultsMatchTheLibrary pins them).
func defaultVars() kong.Vars {
	schedule := make([]string, 0, len(triggerd.DefaultRetrySchedule()))
	for _, d := range triggerd.DefaultRetrySchedule() {
		schedule = append(schedule, shortDuration(d))
	}
	return kong.Vars{
		"delivery_timeout":         shortDuration(triggerd.DeliveryTimeoutDefault),
		"secret_grace":             shortDuration(triggerd.SecretGraceDefault),
		"rate_limit":               strconv.Itoa(triggerd.RatePerSecondDefault),
		"rate_burst":               strconv.Itoa(triggerd.RateBurstDefault),
		"retry_schedule":           strings.Join(schedule, ","),
		"workers":                  strconv.Itoa(triggerd.DeliveryWorkersDefault),
		"fast_path_slots":          strconv.Itoa(delivery.FastPathSlotsMin),
		"rescue_margin":            shortDuration(triggerd.RescueAfterMargin),
		"rescue_min_margin":        shortDuration(triggerd.RescueAfterMinMargin),
		"polling_retry_after":      shortDuration(triggerd.PollingRetryAfterDefault),
		"polling_page_size":        strconv.Itoa(triggerd.PollingPageSizeDefault),
		"polling_page_max":         strconv.Itoa(poll.PageSizeMax),
		"event_retention":          shortDuration(triggerd.EventRetentionDefault),
		"attempt_retention":        shortDuration(triggerd.AttemptRetentionDefault),
		"disable_after":            shortDuration(triggerd.DisableAfterDefault),
		"subscription_concurrency": strconv.Itoa(triggerd.SubscriptionConcurrencyDefault),
		"host_concurrency":         strconv.Itoa(triggerd.HostConcurrencyDefault),
		"bench_phases":             strings.Join(bench.Phases, ","),
		"shutdown_timeout":         shortDuration(ShutdownTimeoutDefault),
		"console_session_lifetime": shortDuration(triggerd.ConsoleSessionLifetimeDefault),
	}
}

// shortDuration writes d as people do ("5m", "2h", "30s"), not as
// time.Duration.String does ("5m0s"); the result parses back to d.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
