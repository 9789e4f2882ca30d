package triggerd_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// overview is GET /v1/overview's answer.
type overview struct {
	Triggers []struct {
		Trigger       string         `json:"trigger"`
		Subscriptions map[string]int `json:"subscriptions"`
		Attempts      map[string]int `json:"attempts"`
	} `json:"triggers"`
	Problems      []subscription `json:"problems"`
	OldestPending *struct {
		SubscriptionID string    `json:"subscriptionId"`
		WebhookID      string    `json:"webhookId"`
		QueuedAt       time.Time `json:"queuedAt"`
		Attempt        int       `json:"attempt"`
	} `json:"oldestPending"`
}

// TestOverviewAPI checks GET /v1/overview end to end: per trigger the
// subscriptions by state and the last hour's attempts by outcome, the
// failing subscription first, the delivery waiting for its retry, nothing
// of another tenant's, and the answer matching api.json.
func TestOverviewAPI(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{RetrySchedule: []time.Duration{time.Hour}}})
		schema := apiSchemas(t, b)
		ok := newReceiver(t, nil)
		bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		good, _ := b.register(t, "order.created", ok.URL+"/cb", nil)
		failing, _ := b.register(t, "order.created", bad.URL+"/cb", nil)
		off, _ := b.register(t, "order.updated", ok.URL+"/off", nil)
		b.call(t, http.MethodPatch, "/v1/webhooks/"+off.ID, "", map[string]string{"state": "inactive"}, nil)
		res := b.publish(t, []map[string]any{{"type": "order.created", "data": order(1, "new")}, {"type": "order.created", "data": order(2, "new")}})
		b.waitAttempts(t, good.ID, 2)
		b.waitAttempts(t, failing.ID, 2)

		var ov overview
		var raw any
		eventually(t, func() bool {
			ov = overview{}
			require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/overview", "", nil, &ov).StatusCode)
			return ov.OldestPending != nil
		}, "the retries are queued")
		b.call(t, http.MethodGet, "/v1/overview", "", nil, &raw)
		require.NoError(t, schema("Overview").Validate(raw), "%v", raw)
		require.Len(t, ov.Triggers, 2, "every trigger of the catalog")
		require.Equal(t, "order.created", ov.Triggers[0].Trigger)
		require.Equal(t, map[string]int{"active": 2, "inactive": 0}, ov.Triggers[0].Subscriptions)
		require.Equal(t, map[string]int{"delivered": 2, "retry": 2, "failed": 0, "gone": 0}, ov.Triggers[0].Attempts)
		require.Equal(t, map[string]int{"active": 0, "inactive": 1}, ov.Triggers[1].Subscriptions)
		require.Len(t, ov.Problems, 2)
		require.Equal(t, failing.ID, ov.Problems[0].ID, "the failing subscription first")
		require.Equal(t, 2, ov.Problems[0].ConsecutiveFailures)
		require.NotContains(t, ov.Problems[0].CallbackURL, "sig=", "callback URLs stay redacted")
		require.Equal(t, off.ID, ov.Problems[1].ID)
		require.Equal(t, failing.ID, ov.OldestPending.SubscriptionID)
		require.Contains(t, []string{res.Events[0].ID, res.Events[1].ID}, ov.OldestPending.WebhookID)
		require.Equal(t, 2, ov.OldestPending.Attempt)
		require.WithinDuration(t, time.Now(), ov.OldestPending.QueuedAt, time.Minute)

		// Hours later, with no attempt in the last hour, the subscription
		// still waits for its retries in the queue: still listed failing.
		q := `UPDATE triggerd_attempt SET started_at = ? WHERE subscription_id = ?`
		if postgres {
			q = `UPDATE triggerd_attempt SET started_at = $1 WHERE subscription_id = $2`
		}
		_, err := b.db.ExecContext(b.ctx, q, time.Now().Add(-3*time.Hour).UnixMicro(), failing.ID)
		require.NoError(t, err)
		ov = overview{}
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/overview", "", nil, &ov).StatusCode)
		require.Zero(t, ov.Triggers[0].Attempts["retry"], "the hour holds no failed attempt now")
		require.Len(t, ov.Problems, 2)
		require.Equal(t, failing.ID, ov.Problems[0].ID, "the queue says it is failing")

		// Another tenant sees its own, empty, overview.
		other, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		var theirs overview
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/overview", other, nil, &theirs).StatusCode)
		require.Empty(t, theirs.Problems)
		require.Nil(t, theirs.OldestPending)
		require.Zero(t, theirs.Triggers[0].Subscriptions["active"])
		require.Zero(t, theirs.Triggers[0].Attempts["retry"])

		// A connection key may read it (it reads subscriptions); a publish
		// key may not.
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/overview", scopedKey(t, b, "connection"), nil, nil).StatusCode)
		var e apiErrorBody
		require.Equal(t, http.StatusForbidden, b.call(t, http.MethodGet, "/v1/overview", scopedKey(t, b, "publish"), nil, &e).StatusCode)
		require.Contains(t, e.Error.Message, "connection")
	})
}

// scopedKey issues a key of the bundle's tenant with one scope.
func scopedKey(t *testing.T, b *testBundle, scope string) string {
	t.Helper()
	var k struct{ Key string }
	require.Equal(t, http.StatusCreated, b.call(t, http.MethodPost, "/v1/keys", "", map[string]any{"scopes": []string{scope}}, &k).StatusCode)
	return k.Key
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so each answer can be checked.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowserClient(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (br *browser) do(method, path string, form url.Values) (*http.Response, string) {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.base+path, body)
	require.NoError(br.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := br.client.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	return resp, string(raw)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a page's forms.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	require.NotNil(t, m, "the page has a form with a CSRF token")
	return m[1]
}

// signIn signs in with key and returns the sign-in answer (a redirect to
// the overview when it worked).
func (br *browser) signIn(key string) (*http.Response, string) {
	br.t.Helper()
	_, form := br.do(http.MethodGet, "/ui/signin", nil)
	return br.do(http.MethodPost, "/ui/signin", url.Values{"csrf": {csrf(br.t, form)}, "key": {key}})
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestConsoleSessions checks the console's sign-in, its cookie, its headers,
// and that a session ends with sign-out, with its key's revocation and at
// its expiry, on both databases (sessions live in the database, so every
// node of a deployment shares them).
func TestConsoleSessions(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		br := newBrowserClient(t, b.api.URL)

		resp, _ := br.do(http.MethodGet, "/", nil)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "/ui/", resp.Header.Get("Location"), "/ leads to the console")
		resp, _ = br.do(http.MethodGet, "/ui/", nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ui/signin", resp.Header.Get("Location"), "signed out, every page leads to the sign-in form")
		resp, page := br.do(http.MethodGet, "/ui/signin", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, `<label for="key">API key</label>`)
		require.Equal(t, "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", resp.Header.Get("Content-Security-Policy"))
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

		// The sign-in form needs its own CSRF token: a form posted from
		// elsewhere cannot sign a browser in with someone else's key.
		resp, _ = newBrowserClient(t, b.api.URL).do(http.MethodPost, "/ui/signin", url.Values{"key": {b.key}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Nil(t, cookieNamed(resp, "triggerd_session"))

		resp, page = br.signIn("tdk_not-a-key")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, page, "not a valid API key")
		require.Nil(t, cookieNamed(resp, "triggerd_session"))

		resp, _ = br.signIn(b.key)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		ck := cookieNamed(resp, "triggerd_session")
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		require.Equal(t, "/ui/", ck.Path)
		require.False(t, ck.Secure, "a plain-HTTP public URL gets no Secure cookie (https does: TestConsoleMountable)")
		require.NotContains(t, ck.Value, b.key)
		require.InDelta(t, triggerd.ConsoleSessionLifetimeDefault.Seconds(), float64(ck.MaxAge), 5)
		resp, page = br.do(http.MethodGet, "/ui/", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, `id="tenant">acme<`)
		require.NotContains(t, page, b.key, "the key is never rendered")

		// Sign-out ends the session in the database: its cookie replayed
		// names nothing.
		resp, _ = br.do(http.MethodPost, "/ui/signout", url.Values{"csrf": {csrf(t, page)}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		replay := newBrowserClient(t, b.api.URL)
		u, err := url.Parse(b.api.URL + "/ui/")
		require.NoError(t, err)
		replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "triggerd_session", Value: ck.Value}})
		resp, _ = replay.do(http.MethodGet, "/ui/", nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		resp, _ = replay.do(http.MethodPost, "/ui/signout", url.Values{"csrf": {csrf(t, page)}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "a form posted without a session does nothing and leads to the sign-in form")
		require.Equal(t, "/ui/signin", resp.Header.Get("Location"))

		// A revoked key ends its sessions.
		limited := scopedKey(t, b, "connection")
		resp, _ = br.signIn(limited)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		resp, page = br.do(http.MethodGet, "/ui/events", nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "a connection key reads no event log, in the console as in the API")
		require.Contains(t, page, "needs a key with the &#34;admin&#34; scope")
		resp, _ = br.do(http.MethodGet, "/ui/subscriptions", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var keys struct {
			Keys []struct {
				ID     string   `json:"id"`
				Scopes []string `json:"scopes"`
			} `json:"keys"`
		}
		b.call(t, http.MethodGet, "/v1/keys", "", nil, &keys)
		for _, k := range keys.Keys {
			if len(k.Scopes) == 1 && k.Scopes[0] == "connection" {
				require.Equal(t, http.StatusOK, b.call(t, http.MethodDelete, "/v1/keys/"+k.ID, "", nil, nil).StatusCode)
			}
		}
		resp, _ = br.do(http.MethodGet, "/ui/subscriptions", nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the revoked key's session is over")
		require.Equal(t, "/ui/signin", resp.Header.Get("Location"))
		resp, page = br.signIn(limited)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, page, "no longer works")
	})
}

// TestConsoleSessionExpires ends a session at its lifetime.
func TestConsoleSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{cfg: triggerd.Config{ConsoleSessionLifetime: 300 * time.Millisecond}})
	br := newBrowserClient(t, b.api.URL)
	resp, _ := br.signIn(b.key)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ck := cookieNamed(resp, "triggerd_session")
	require.NotNil(t, ck)
	// The cookie is replayed past its Max-Age, as a client that ignores it
	// would: the server ends the session on its own.
	replay := func() int {
		req, err := http.NewRequest(http.MethodGet, b.api.URL+"/ui/", nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, replay())
	eventually(t, func() bool { return replay() == http.StatusSeeOther }, "the session expired")
}

// TestConsoleMountable mounts ConsoleHandler in an application's own mux
// with Config.NoConsole: Handler then serves no console, and an https
// public URL makes the cookie Secure.
func TestConsoleMountable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := triggerd.New(ctx, storetest.SQLite.Open(t), triggerd.Config{PublicURL: "https://api.example.com", NoConsole: true})
	require.NoError(t, err)
	key, err := p.CreateAPIKey(ctx, "acme")
	require.NoError(t, err)
	for _, path := range []string{"/", "/ui/", "/ui/signin"} {
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, path)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", p.Handler())
	mux.Handle(triggerd.ConsolePath, p.ConsoleHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	br := newBrowserClient(t, srv.URL)
	resp, _ := br.signIn(key)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ck := cookieNamed(resp, "triggerd_session")
	require.NotNil(t, ck)
	require.True(t, ck.Secure, "the public URL is https: a TLS proxy is in front")
}

// TestConsoleEvents finds an event by its idempotency key, shows its data
// and its deliveries, and redelivers it to a subscription from its page;
// the same form without its CSRF token sends nothing.
func TestConsoleEvents(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		rc := newReceiver(t, nil)
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		data := order(7, "new")
		data["order_key"] = "<b>wc_order_7</b>"
		res := b.publish(t, map[string]any{"type": "order.created", "id": "o-7", "data": data})
		evt := res.Events[0].ID
		require.Equal(t, evt, rc.next(t).Header.Get("webhook-id"))
		b.waitAttempts(t, sub.ID, 1)

		br := newBrowserClient(t, b.api.URL)
		resp, _ := br.signIn(b.key)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		resp, page := br.do(http.MethodGet, "/ui/events", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, evt, "the newest events are listed")
		resp, _ = br.do(http.MethodGet, "/ui/events?q=o-7", nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ui/events/o-7", resp.Header.Get("Location"))
		resp, page = br.do(http.MethodGet, "/ui/events/o-7", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, evt)
		require.Contains(t, page, sub.ID)
		require.Contains(t, page, "&lt;b&gt;wc_order_7&lt;/b&gt;", "the event's data is shown, escaped")
		require.NotContains(t, page, "<b>wc_order_7</b>")
		action := "/ui/subscriptions/" + sub.ID + "/events/" + evt + "/redeliver"
		require.Contains(t, page, `action="`+action+`"`)

		resp, _ = br.do(http.MethodPost, action, url.Values{})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		rc.none(t)
		resp, _ = br.do(http.MethodPost, action, url.Values{"csrf": {csrf(t, page)}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ui/events/"+evt+"?done=redelivered&queued=1", resp.Header.Get("Location"))
		require.Equal(t, evt, rc.next(t).Header.Get("webhook-id"), "the event is sent again, with its own webhook-id")
		_, page = br.do(http.MethodGet, resp.Header.Get("Location"), nil)
		require.Contains(t, page, "Queued 1 redelivery.")

		resp, page = br.do(http.MethodGet, "/ui/events/evt_nope", nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, page, "no event with this id or idempotency key")
	})
}
