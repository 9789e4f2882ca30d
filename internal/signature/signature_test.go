package signature_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/signature"
)

func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	s, err := signature.NewSigner(secret)
	require.NoError(t, err)

	body := []byte(`{"id":1,"status":"new"}`)
	ts := time.Now().Unix()
	h := http.Header{}
	h.Set("webhook-id", "evt_01")
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", s.Sign("evt_01", ts, body))

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(body, h))

	h.Set("webhook-signature", s.Sign("evt_01", ts, []byte(`{"id":2}`)))
	require.Error(t, wh.Verify(body, h), "a signature over another body must not verify")
}

func TestNewSignerRejectsBadSecrets(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "abc", "whsec_", "whsec_***"} {
		_, err := signature.NewSigner(bad)
		require.Error(t, err, bad)
	}
}

func BenchmarkSign(b *testing.B) {
	secret, _ := signature.NewSecret()
	s, _ := signature.NewSigner(secret)
	body := []byte(`{"id":123,"order_key":"wc_order_abc","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`)
	b.ReportAllocs()
	for b.Loop() {
		s.Sign("evt_01JD3", 1764244800, body)
	}
}

func TestSignAll(t *testing.T) {
	t.Parallel()
	a, err := signature.NewSecret()
	require.NoError(t, err)
	b, err := signature.NewSecret()
	require.NoError(t, err)
	sa, err := signature.NewSigner(a)
	require.NoError(t, err)
	sb, err := signature.NewSigner(b)
	require.NoError(t, err)
	body := []byte(`{"id":1}`)
	got, err := signature.SignAll(a+" "+b, "msg_1", 1700000000, body)
	require.NoError(t, err)
	require.Equal(t, sa.Sign("msg_1", 1700000000, body)+" "+sb.Sign("msg_1", 1700000000, body), got)
	one, err := signature.SignAll(a, "msg_1", 1700000000, body)
	require.NoError(t, err)
	require.Equal(t, sa.Sign("msg_1", 1700000000, body), one)
	_, err = signature.SignAll("", "m", 1, body)
	require.Error(t, err)
	_, err = signature.SignAll(a+" nope", "m", 1, body)
	require.Error(t, err)
	require.NotContains(t, err.Error(), a, "errors never quote a secret")
}
