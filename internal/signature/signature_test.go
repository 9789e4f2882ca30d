package signature_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// TestCacheSignsAsSignAll checks that the cache's signers, reused across
// calls and goroutines, give the same values as fresh ones, and refuse what
// SignAll refuses.
func TestCacheSignsAsSignAll(t *testing.T) {
	t.Parallel()
	a, err := signature.NewSecret()
	require.NoError(t, err)
	b, err := signature.NewSecret()
	require.NoError(t, err)
	var c signature.Cache
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id, body := fmt.Sprintf("evt_%d_%d_with_a_long_message_id_past_any_small_buffer_%s", g, i, strings.Repeat("x", g*20)), []byte(fmt.Sprintf(`{"n":%d}`, i))
				for _, secrets := range []string{a, a + " " + b} {
					want, err := signature.SignAll(secrets, id, int64(1700000000+i), body)
					require.NoError(t, err)
					got, err := c.SignAll(secrets, id, int64(1700000000+i), body)
					require.NoError(t, err)
					require.Equal(t, want, got)
				}
			}
		}()
	}
	wg.Wait()
	_, err = c.SignAll("", "m", 1, nil)
	require.Error(t, err)
	_, err = c.SignAll(a+" nope", "m", 1, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), a, "errors never quote a secret")
}

// BenchmarkCacheSignAll is the sender's signing of one notification with a
// subscription's secret, its signer taken from the cache.
func BenchmarkCacheSignAll(b *testing.B) {
	secret, _ := signature.NewSecret()
	var c signature.Cache
	body := []byte(`{"id":123,"order_key":"wc_order_abc","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SignAll(secret, "evt_01JD3ZQ8W4X2V9K7M5N3P1R6T0", 1764244800, body); err != nil {
			b.Fatal(err)
		}
	}
}
