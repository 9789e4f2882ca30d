package triggerd_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// syncBuffer is a log sink shared by the publisher's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestCredentialsCanary runs the whole life of three subscriptions (one
// delivered, one whose receiver refuses connections, one whose receiver
// never answers) with a canary in every callback URL's signature, and
// checks that neither the canary nor a subscription secret appears in any
// log line or in any API answer other than the registration's own 201.
func TestCredentialsCanary(t *testing.T) {
	t.Parallel()
	backends(t, testCredentialsCanary)
}

func testCredentialsCanary(t *testing.T, postgres bool) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{
		Logger:          logger,
		DeliveryTimeout: 200 * time.Millisecond,
		RetrySchedule:   []time.Duration{10 * time.Millisecond},
	}})
	const canary = "CANARYsig0123456789"
	query := "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + canary

	ok := newReceiver(t, nil)
	refusedLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedAddr := refusedLn.Addr().String()
	require.NoError(t, refusedLn.Close()) // nothing listens: connection refused
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { hang.Close() }) // accepted by the kernel, never answered: a timeout

	callbacks := []string{
		ok.URL + "/ok" + query,
		"http://" + refusedAddr + "/refused" + query,
		"http://" + hang.Addr().String() + "/hang" + query,
	}
	var answers []string // every API answer that must be clean
	var secrets []string
	ids := make([]string, len(callbacks))
	for i, cb := range callbacks {
		sub, _ := b.register(t, "order.created", cb, nil)
		require.Equal(t, cb, sub.CallbackURL, "the 201 of its own registration shows the URL in full")
		require.NotEmpty(t, sub.Secret, "and the secret")
		ids[i] = sub.ID
		secrets = append(secrets, sub.Secret)
	}
	b.publish(t, map[string]any{"type": "order.created", "data": order(1, "processing")})
	ok.next(t)

	get := func(method, path string) string {
		req, err := http.NewRequestWithContext(b.ctx, method, b.api.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set(triggerd.APIKeyHeader, b.key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.Status + " " + string(raw)
	}
	// Both failing subscriptions end failed after their one retry, with
	// their errors recorded.
	for _, id := range ids[1:] {
		detail := b.waitWebhook(t, id, "the failing callback gave up", func(s subscription) bool {
			return len(s.Attempts) == 2 && s.Attempts[0].Outcome == "failed"
		})
		require.NotEmpty(t, detail.Attempts[0].Error)
	}
	refusedDetail := get(http.MethodGet, "/v1/webhooks/"+ids[1])
	require.Contains(t, refusedDetail, "/refused?api-version=REDACTED", "the stored error names the redacted URL")
	require.Contains(t, get(http.MethodGet, "/v1/webhooks/"+ids[2]), "timed out")
	for _, id := range ids {
		answers = append(answers, get(http.MethodGet, "/v1/webhooks/"+id))
	}
	answers = append(answers, get(http.MethodGet, "/v1/webhooks"))

	// Rotation shows the new secret once; the old one appears nowhere.
	var rotated subscription
	resp := b.call(t, http.MethodPost, "/v1/webhooks/"+ids[0]+"/secret", "", nil, &rotated)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, rotated.Secret)
	require.NotEqual(t, secrets[0], rotated.Secret)
	require.NotContains(t, rotated.CallbackURL, canary)
	answers = append(answers, get(http.MethodGet, "/v1/webhooks/"+ids[0]))

	// A deleted subscription shows no secret, and cannot be rotated.
	resp = b.call(t, http.MethodDelete, "/v1/webhooks/"+ids[1], "", nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	deleted := get(http.MethodGet, "/v1/webhooks/"+ids[1])
	require.NotContains(t, deleted, `"secret"`)
	answers = append(answers, deleted, get(http.MethodPost, "/v1/webhooks/"+ids[1]+"/secret"))
	require.Contains(t, answers[len(answers)-1], "404")

	log := logs.String()
	require.Contains(t, log, "connection refused", "the refused attempt was logged")
	require.Contains(t, log, "timed out", "the hanging attempt was logged")
	for _, line := range strings.Split(log, "\n") {
		require.NotContains(t, line, canary, "a log line carries a callback URL's signature")
		require.NotContains(t, line, b.key, "a log line carries an API key")
		for _, s := range append(secrets, rotated.Secret) {
			require.NotContains(t, line, strings.TrimPrefix(s, "whsec_"), "a log line carries a secret")
		}
	}
	for _, a := range answers {
		require.NotContains(t, a, canary, a)
		for _, s := range secrets {
			require.NotContains(t, a, strings.TrimPrefix(s, "whsec_"), a)
		}
		require.NotContains(t, a, strings.TrimPrefix(rotated.Secret, "whsec_"), a)
	}
	var list struct{ Webhooks []subscription }
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(answers[len(callbacks)], " ", 3)[2]), &list))
	require.Len(t, list.Webhooks, 3)
	for _, w := range list.Webhooks {
		require.Contains(t, w.CallbackURL, "sig=REDACTED")
		require.Empty(t, w.Secret)
	}
}
