package main

import (
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

func parseServe(t *testing.T, args ...string) (*serveCmd, error) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Exit(func(int) { t.Fatal("kong exited") }), defaultVars())
	require.NoError(t, err)
	_, err = parser.Parse(append([]string{"serve"}, args...))
	return &c.Serve, err
}

// TestServeDefaultsMatchTheLibrary keeps serve's flag defaults and the
// library's named defaults the same: --help is written from them.
func TestServeDefaultsMatchTheLibrary(t *testing.T) {
	t.Parallel()
	s, err := parseServe(t)
	require.NoError(t, err)
	require.Equal(t, triggerd.DeliveryTimeoutDefault, s.DeliveryTimeout)
	require.Equal(t, triggerd.DeliveryWorkersDefault, s.Workers)
	require.Equal(t, triggerd.PollingRetryAfterDefault, s.PollingRetryAfter)
	require.Equal(t, triggerd.PollingPageSizeDefault, s.PollingPageSize)
	require.Equal(t, triggerd.EventRetentionDefault, s.EventRetention)
	require.Equal(t, triggerd.AttemptRetentionDefault, s.AttemptRetention)
	require.Equal(t, triggerd.DisableAfterDefault, s.DisableAfter)
	require.Equal(t, triggerd.SubscriptionConcurrencyDefault, s.SubscriptionConcurrency)
	require.Equal(t, triggerd.HostConcurrencyDefault, s.HostConcurrency)
	require.Equal(t, ShutdownTimeoutDefault, s.ShutdownTimeout)
	require.Equal(t, triggerd.ConsoleSessionLifetimeDefault, s.ConsoleSessionLifetime)
	require.Zero(t, s.RescueAfter, "empty means the library's default, timeout + RescueAfterMargin")
	require.Empty(t, s.RetrySchedule, "empty means the library's default schedule")

	// The schedule written in --help parses back to the library's.
	got, err := parseSchedule(defaultVars()["retry_schedule"])
	require.NoError(t, err)
	require.Equal(t, triggerd.DefaultRetrySchedule(), got)
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		5 * time.Second: "5s", 5 * time.Minute: "5m", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m",
		168 * time.Hour: "168h", 1500 * time.Millisecond: "1.5s",
	} {
		require.Equal(t, want, shortDuration(d))
		back, err := time.ParseDuration(want)
		require.NoError(t, err)
		require.Equal(t, d, back)
	}
}

// TestServeRejectsFlagsOutOfRange: every range --help gives is enforced.
func TestServeRejectsFlagsOutOfRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--delivery-timeout", "0s"}, "--delivery-timeout"},
		{[]string{"--workers", "0"}, "--workers"},
		{[]string{"--rescue-after", "1s"}, "--rescue-after"},
		{[]string{"--polling-page-size", "0"}, "--polling-page-size"},
		{[]string{"--polling-page-size", "1001"}, "--polling-page-size"},
		{[]string{"--polling-retry-after", "500ms"}, "--polling-retry-after"},
		{[]string{"--event-retention", "0s"}, "--event-retention"},
		{[]string{"--attempt-retention", "0s"}, "--attempt-retention"},
		{[]string{"--disable-after", "-1h"}, "--disable-after"},
		{[]string{"--alert-url", "https://ops.example.com/alerts"}, "--alert-secret"},
		{[]string{"--subscription-concurrency", "0"}, "--subscription-concurrency"},
		{[]string{"--host-concurrency", "0"}, "--host-concurrency"},
		{[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout"},
		{[]string{"--no-metrics", "--metrics-addr", "127.0.0.1:9090"}, "--no-metrics"},
		{[]string{"--console-session-lifetime", "0s"}, "--console-session-lifetime"},
	} {
		_, err := parseServe(t, tc.args...)
		require.ErrorContains(t, err, tc.want, tc.args)
	}
	_, err := parseServe(t, "--rescue-after", "50s", "--polling-page-size", "1000", "--disable-after", "0")
	require.NoError(t, err)
}
