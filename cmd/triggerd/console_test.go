package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	stdpng "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browserPath finds a Chromium or Chrome to drive; the tests that need one
// skip without it, saying how to install one.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium to drive: install it (Debian/Ubuntu: sudo apt-get install -y chromium chromium-driver; .ci/run does) to run the console's browser tests")
	return ""
}

// newBrowser starts a headless Chromium with a profile of its own (so its
// cookies are its own), for the test's lifetime.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browserPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// text returns the text of the first element matching sel, once visible.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))))
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

// signIn signs the browser in with key and waits for the overview.
func signIn(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), key),
	))
	require.Equal(t, http.StatusOK, click(t, ctx, "#signin"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#triggers"))))
}

// click clicks the element that sel matches, waits for the page it leads
// to, and returns that page's status.
func click(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	require.NoError(t, err, "click %s", sel)
	return int(resp.Status)
}

// webhookState reads a subscription's state through the API.
func webhookState(t *testing.T, base, key, id string) string {
	t.Helper()
	return webhook(t, base, key, id).State
}

type webhookJSON struct {
	State      string
	LastStatus int
}

// webhook reads a subscription through the API.
func webhook(t *testing.T, base, key, id string) webhookJSON {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/webhooks/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var sub webhookJSON
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sub))
	return sub
}

// formPost posts a form the way a forger would: with the cookie it was
// given, outside the page, and without following the redirect.
func formPost(t *testing.T, target, cookie string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.Header.Set("Cookie", "triggerd_session="+cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real `triggerd serve` and a real receiver: sign in, see the subscription,
// see a failing attempt with the receiver's message, redeliver it, disable
// and enable, refuse a forged form, sign out; another tenant's session
// sees and changes nothing of it. It writes the Overview's screenshot that
// the README shows (docs/console-overview.png, with
// TRIGGERD_UPDATE_SCREENSHOT=1 as .ci/run sets it).
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	db := filepath.Join(t.TempDir(), "triggerd.db")
	var failing atomic.Bool
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && r.URL.Path == "/workflows/run" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "flow paused: quota exceeded for the hour")
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	// One retry, an hour away: a failed attempt stays failed while the
	// test looks at it.
	s := startServer(t, "--db", db, "--retry-schedule", "1h")
	base := "http://" + s.addr
	acme := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	globex := strings.TrimSpace(run(t, "keys", "create", "--tenant", "globex", "--db", db))

	resp, raw := post(t, base+"/v1/webhooks/order.created", acme, map[string]string{
		"callbackUrl": rc.URL + "/workflows/run?sig=topSecretSignature"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var sub struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &sub))
	publish := func(n int) string {
		t.Helper()
		resp, raw := post(t, base+"/v1/events", acme, map[string]any{"type": "order.created",
			"data": map[string]any{"id": n, "order_key": "k", "status": "processing", "currency": "EUR", "total": 1234567}})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
		var res struct{ Events []struct{ ID string } }
		require.NoError(t, json.Unmarshal(raw, &res))
		return res.Events[0].ID
	}
	first := publish(1)
	require.Eventually(t, func() bool { return webhook(t, base, acme, sub.ID).LastStatus == http.StatusOK },
		20*time.Second, 20*time.Millisecond, "the first event is delivered before the receiver fails")
	failing.Store(true)
	failed := publish(2)
	// Another trigger, delivered, so the Overview's chart has two bars.
	resp, raw = post(t, base+"/v1/webhooks/order.updated", acme, map[string]string{"callbackUrl": rc.URL + "/workflows/updated?sig=topSecretSignature"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	for n := range 3 {
		resp, raw := post(t, base+"/v1/events", acme, map[string]any{"type": "order.updated",
			"data": map[string]any{"id": 10 + n, "order_key": "k", "status": "completed", "currency": "EUR", "total": 99}})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	}

	// Sign in; the overview lists the failing subscription first.
	signIn(t, ctx, base, acme)
	require.Equal(t, "acme", text(t, ctx, "#tenant"))
	require.Eventually(t, func() bool {
		if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#triggers"))); err != nil {
			return false
		}
		problems, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		return strings.Contains(problems, sub.ID) && strings.Contains(problems, "503") && strings.Contains(problems, "order.updated: 3")
	}, 20*time.Second, 100*time.Millisecond, "the overview lists the failing subscription")
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(t, err)
	require.NotContains(t, html, "topSecretSignature", "the callback URL's signature never reaches a page")
	require.NotContains(t, html, acme, "the key never reaches a page")

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	cfg, err := stdpng.DecodeConfig(bytes.NewReader(png))
	require.NoError(t, err, "the screenshot is a PNG")
	require.Greater(t, cfg.Width, 0)
	// The README's copy is rewritten only when asked (.ci/run asks), since
	// every run has other ids and ports: a plain `go test` leaves the tree
	// as it was.
	shot := filepath.Join(t.TempDir(), "console-overview.png")
	if os.Getenv("TRIGGERD_UPDATE_SCREENSHOT") != "" {
		shot = filepath.Join("..", "..", "docs", "console-overview.png")
	}
	require.NoError(t, os.WriteFile(shot, png, 0o644))

	// Times are shown in the viewer's zone, with the UTC time on hover.
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("time[datetime]").title`))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(title, " UTC"), title)

	// The subscription, from the list, shows the host only.
	require.Equal(t, http.StatusOK, click(t, ctx, `nav a[href="/ui/subscriptions"]`))
	list := text(t, ctx, "#subscriptions")
	require.Contains(t, list, sub.ID)
	require.Contains(t, list, strings.TrimPrefix(rc.URL, "http://"))
	require.Equal(t, http.StatusOK, click(t, ctx, `#subscriptions a[href="/ui/subscriptions/`+sub.ID+`"]`))
	attempts := text(t, ctx, "#attempts")
	require.Contains(t, attempts, failed)
	require.Contains(t, attempts, "flow paused: quota exceeded for the hour", "the receiver's own message is shown")
	require.Contains(t, attempts, "503")

	// Redeliver once the receiver works again: a new, delivered attempt.
	failing.Store(false)
	delivered := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#attempts tr.outcome-delivered").length`))
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 1, delivered())
	require.Equal(t, http.StatusOK, click(t, ctx, "#redeliver"))
	require.Equal(t, "Queued 1 redelivery.", text(t, ctx, "#notice"))
	require.Eventually(t, func() bool {
		return chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#attempts"))) == nil && delivered() == 2
	}, 20*time.Second, 100*time.Millisecond, "the redelivered attempt is shown delivered")
	newest := text(t, ctx, "#attempts tbody tr:first-child")
	require.Contains(t, newest, failed, "the newest attempt is the redelivery of the failed event")
	require.Contains(t, newest, "delivered")
	require.NotContains(t, newest, first)

	// Disable, then enable.
	require.Equal(t, http.StatusOK, click(t, ctx, "#toggle"))
	require.Contains(t, text(t, ctx, "#notice"), "Disabled")
	require.Contains(t, text(t, ctx, "#state"), "inactive")
	require.Equal(t, "inactive", webhookState(t, base, acme, sub.ID))
	require.Equal(t, "Enable", text(t, ctx, "#toggle"))
	// Enabled from the keyboard: focus the button, press Enter.
	require.NoError(t, chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#toggle"))))
	enabled, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r"))
	require.NoError(t, err)
	require.EqualValues(t, http.StatusOK, enabled.Status)
	require.Contains(t, text(t, ctx, "#notice"), "Enabled")
	require.Equal(t, "active", webhookState(t, base, acme, sub.ID))

	// At 375 px wide no page overflows the screen: wide tables and the
	// definition scroll in their own box.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)))
	for _, path := range []string{"/ui/", "/ui/subscriptions", "/ui/subscriptions/" + sub.ID, "/ui/events", "/ui/events/" + failed, "/ui/connector"} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main h1"))))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		require.NoError(t, err)
		require.False(t, overflow, "%s is wider than a 375 px screen", path)
		unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter(e => e.labels.length === 0).length`))
		require.NoError(t, err)
		require.Zero(t, unlabelled, "%s has a control without a label", path)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.ResetViewport(), chromedp.Navigate(base+"/ui/subscriptions/"+sub.ID), chromedp.WaitVisible(chromedp.CSS("#attempts"))))

	// A forged form post carrying the victim's cookie but no CSRF token
	// (or a wrong one) is refused and changes nothing.
	var cookie string
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	require.NoError(t, err)
	for _, c := range cookies.Cookies {
		if c.Name == "triggerd_session" {
			cookie = c.Value
			require.True(t, c.HTTPOnly)
			require.Equal(t, network.CookieSameSiteStrict, c.SameSite)
			require.Equal(t, "/ui/", c.Path)
		}
	}
	require.NotEmpty(t, cookie)
	for _, form := range []url.Values{{"state": {"inactive"}}, {"state": {"inactive"}, "csrf": {"forged"}}} {
		status, body := formPost(t, base+"/ui/subscriptions/"+sub.ID+"/state", cookie, form)
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, body, "nothing was done")
	}
	require.Equal(t, "active", webhookState(t, base, acme, sub.ID), "the forged posts changed nothing")

	// Sign out: the session is gone on the server, not only the cookie.
	require.Equal(t, http.StatusOK, click(t, ctx, "#signout"))
	require.Contains(t, text(t, ctx, "main"), "You are signed out.")
	req, err := http.NewRequest(http.MethodGet, base+"/ui/", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", "triggerd_session="+cookie)
	old, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	require.NoError(t, err)
	old.Body.Close()
	require.Equal(t, http.StatusSeeOther, old.StatusCode, "the old cookie names no session")
	require.Equal(t, "/ui/signin", old.Header.Get("Location"))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/ui/subscriptions"), chromedp.WaitVisible(chromedp.CSS("#key"))))
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, base+"/ui/signin", location)

	// Another tenant sees a 404 and cannot act, even with its own valid
	// CSRF token.
	signIn(t, ctx, base, globex)
	require.Equal(t, "globex", text(t, ctx, "#tenant"))
	require.NotContains(t, text(t, ctx, "main"), sub.ID)
	resp404, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/ui/subscriptions/"+sub.ID))
	require.NoError(t, err)
	require.EqualValues(t, http.StatusNotFound, resp404.Status)
	require.Equal(t, "Not found", text(t, ctx, "h1"))
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/ui/subscriptions/`+sub.ID+`/state", {method: "POST",
		body: new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value, state: "inactive"})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "active", webhookState(t, base, acme, sub.ID), "another tenant changed nothing")
}
