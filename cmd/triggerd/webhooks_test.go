package main_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWebhooksAndEventsCommands drives the API through the client commands:
// tables for people, --json for scripts, and the API's message on errors.
func TestWebhooksAndEventsCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	var received atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	s := startServer(t, "--db", db)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	api := []string{"--url", "http://" + s.addr, "--api-key", key}

	resp, raw := post(t, "http://"+s.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook?sig=cliSecretSig"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var sub struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &sub))
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp, raw = post(t, "http://"+s.addr+"/v1/events", key, map[string]any{"type": "order.created", "id": "order-7",
		"data": map[string]any{"id": 7, "order_key": "k", "status": "processing", "currency": "EUR", "total": 1}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	require.Eventually(t, func() bool { return received.Load() == 1 }, 15*time.Second, 10*time.Millisecond)

	list := run(t, append([]string{"webhooks", "list"}, api...)...)
	require.Contains(t, list, sub.ID)
	require.Contains(t, list, "order.created")
	require.NotContains(t, list, "cliSecretSig", "tables never show the callback URL")
	var page struct {
		Webhooks []struct{ ID, CallbackURL string } `json:"webhooks"`
	}
	require.NoError(t, json.Unmarshal([]byte(run(t, append([]string{"webhooks", "list", "--json"}, api...)...)), &page))
	require.Equal(t, sub.ID, page.Webhooks[0].ID)

	require.Eventually(t, func() bool {
		return strings.Contains(run(t, append([]string{"webhooks", "attempts", sub.ID}, api...)...), "delivered")
	}, 15*time.Second, 50*time.Millisecond)
	require.Contains(t, run(t, append([]string{"webhooks", "show", sub.ID}, api...)...), "delivered")

	events := run(t, append([]string{"events", "list", "--trigger", "order.created"}, api...)...)
	require.Contains(t, events, "order-7")
	shown := run(t, append([]string{"events", "show", "order-7"}, api...)...)
	require.Contains(t, shown, sub.ID)
	require.Contains(t, shown, "delivered")

	require.Contains(t, run(t, append([]string{"webhooks", "redeliver", sub.ID, "--since", since, "--only", "all"}, api...)...), "queued 1")
	require.Eventually(t, func() bool { return received.Load() == 2 }, 15*time.Second, 10*time.Millisecond)
	require.Contains(t, run(t, append([]string{"webhooks", "redeliver", sub.ID, "--event", "order-7"}, api...)...), "queued 1")
	require.Eventually(t, func() bool { return received.Load() == 3 }, 15*time.Second, 10*time.Millisecond)

	require.Contains(t, run(t, append([]string{"webhooks", "disable", sub.ID}, api...)...), "inactive disabled")
	out, err := exec.Command(binary, append([]string{"webhooks", "redeliver", sub.ID, "--event", "order-7"}, api...)...).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "409")
	require.Contains(t, string(out), "enable it first")
	require.Contains(t, run(t, append([]string{"webhooks", "enable", sub.ID}, api...)...), "active")

	out, err = exec.Command(binary, append([]string{"webhooks", "show", "sub_nope"}, api...)...).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "no webhook with this id")
}
