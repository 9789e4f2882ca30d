package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestJSONLogsAndMetricsListener serves with --log-format json and
// --metrics-addr: the metrics move to their own listener, every log line is a
// JSON object, each attempt has its structured line, and no callback URL,
// secret or API key appears anywhere in the logs.
func TestJSONLogsAndMetricsListener(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "gone") {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	metricsAddr := freeAddr(t)
	s := startServer(t, "--db", db, "--log-format", "json", "--log-level", "debug", "--metrics-addr", metricsAddr)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))

	var subs []struct{ ID, Secret string }
	for _, path := range []string{"/ok?sig=topSecretSignature", "/gone?sig=otherSecretSignature"} {
		resp, raw := post(t, "http://"+s.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + path})
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
		var sub struct{ ID, Secret string }
		require.NoError(t, json.Unmarshal(raw, &sub))
		subs = append(subs, sub)
	}
	resp, raw := post(t, "http://"+s.addr+"/v1/events", key, map[string]any{"type": "order.created",
		"data": map[string]any{"id": 1, "order_key": "k", "status": "processing", "currency": "EUR", "total": 1}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))

	// Both attempts are counted once they are recorded.
	metrics := func(url string) (int, string) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool {
		code, text := metrics("http://" + metricsAddr + "/metrics")
		return code == http.StatusOK &&
			strings.Contains(text, `triggerd_delivery_attempts_total{outcome="delivered",trigger="order.created"} 1`) &&
			strings.Contains(text, `triggerd_delivery_attempts_total{outcome="gone",trigger="order.created"} 1`)
	}, 15e9, 10e6)
	code, _ := metrics("http://" + s.addr + "/metrics")
	require.Equal(t, http.StatusNotFound, code, "with --metrics-addr the API listener does not serve them")

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	_ = s.cmd.Wait()
	logs := s.logs.String()
	var attempts, stateChanges int
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "not JSON: %s", sc.Text())
		switch line["msg"] {
		case "delivery attempt", "delivery attempt failed":
			attempts++
			for _, field := range []string{"subscription", "trigger", "message", "events", "attempt", "outcome", "status", "duration_ms"} {
				require.Contains(t, line, field, sc.Text())
			}
			if line["outcome"] == "delivered" {
				require.Contains(t, line, "latency_ms", sc.Text())
			}
		case "subscription state changed":
			stateChanges++
			require.Equal(t, subs[1].ID, line["subscription"])
			require.Equal(t, "gone", line["reason"])
		}
	}
	require.Equal(t, 2, attempts, logs)
	require.Equal(t, 1, stateChanges, logs)
	for _, secret := range []string{"SecretSignature", rc.URL, key, subs[0].Secret, subs[1].Secret} {
		require.NotContains(t, logs, secret)
	}
}

// TestTracesExportedOverOTLP sets the standard OTEL_* variables: serve exports
// its spans to that collector over OTLP/HTTP and flushes them at shutdown.
// (Not parallel: it sets the environment the server inherits.)
func TestTracesExportedOverOTLP(t *testing.T) {
	var exports atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			exports.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	var traceparent atomic.Value
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent.Store(r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	s := startServer(t, "--db", db)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	resp, raw := post(t, "http://"+s.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	resp, raw = post(t, "http://"+s.addr+"/v1/events", key, map[string]any{"type": "order.created",
		"data": map[string]any{"id": 1, "order_key": "k", "status": "processing", "currency": "EUR", "total": 1}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	require.Eventually(t, func() bool { v, _ := traceparent.Load().(string); return v != "" }, 15*time.Second, 10*time.Millisecond,
		"the delivery carries a traceparent")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	_ = s.cmd.Wait()
	require.Positive(t, exports.Load(), "spans reached the collector: %s", s.logs.String())
}

// TestServeNoMetrics: serve --no-metrics serves no GET /metrics, and the API
// answers as before.
func TestServeNoMetrics(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	s := startServer(t, "--db", db, "--no-metrics")
	resp, err := http.Get("http://" + s.addr + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get("http://" + s.addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
