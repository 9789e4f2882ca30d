// Package console is triggerd's web console under /ui/: server-rendered
// pages where a tenant signs in with an API key, sees its subscriptions and
// deliveries, and redelivers, disables or enables.
//
// The console holds no logic of its own about subscriptions or events:
// every read and every action is a request to the HTTP API, served
// in-process as the session's key (httpapi.AsKey), whose JSON answer the
// page renders. Scopes, tenant isolation, validation and error messages are
// therefore exactly the API's. What the console adds is the session (a
// cookie naming a server-side session, never the key), CSRF tokens on its
// forms, and the HTML.
package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/connector/lint"
	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/httpapi"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

const (
	// Path is where the console is mounted.
	Path = "/ui/"

	// SessionLifetimeDefault is how long a sign-in lasts: a working day,
	// after which the key is asked for again.
	SessionLifetimeDefault = 12 * time.Hour

	// SessionCookie names the session's cookie; signInCookie the one that
	// carries the sign-in form's CSRF token before there is a session.
	SessionCookie = "triggerd_session"
	signInCookie  = "triggerd_signin"

	// PageSize is how many rows a list page shows.
	PageSize = 50

	// csrfField is the form field of the CSRF token.
	csrfField = "csrf"

	// csrfDomain separates the CSRF token derived from a session token from
	// any other use of that token.
	csrfDomain = "triggerd console csrf v1"
)

//go:embed templates assets
var files embed.FS

// Sessions is what the console needs of the store: finding the key a
// sign-in presents, and keeping sessions. sqlstore.Store satisfies it.
type Sessions interface {
	apikey.Finder
	CreateSession(ctx context.Context, p store.SessionParams) error
	SessionByHash(ctx context.Context, tokenHash []byte) (store.Session, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
}

// Config wires the console.
type Config struct {
	// API is the HTTP API handler, which the console calls in-process.
	API http.Handler
	// Sessions keeps the sessions and finds keys.
	Sessions Sessions
	// Connector is the generated connector, shown and offered as a zip.
	Connector *connector.Files
	// SecureCookies marks the cookies Secure even on a plain-HTTP request
	// (the public URL is https, so a TLS proxy is in front).
	SecureCookies bool
	// SessionLifetime is how long a sign-in lasts (never longer than its
	// key); more than 0.
	SessionLifetime time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg     Config
	mux     *http.ServeMux
	pages   map[string]*pageTemplate
	lint    lint.Result
	lintErr error
	zip     []byte
}

// New returns the console's handler, to mount at Path.
func New(cfg Config) (*Console, error) {
	if cfg.SessionLifetime <= 0 {
		// triggerd.Config.withDefaults resolves the default; the console
		// applies none of its own.
		return nil, fmt.Errorf("console: session lifetime %s must be positive", cfg.SessionLifetime)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, pages: pages, mux: http.NewServeMux()}
	// The definition never changes while the process runs: lint it and zip
	// it once.
	c.lint, c.lintErr = lint.Lint(cfg.Connector.Definition, lint.Options{Properties: cfg.Connector.Properties})
	if c.zip, err = connectorZip(cfg.Connector); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// ServeHTTP serves a console request with the console's security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing but the console's own files, no framing (clickjacking on the
	// Disable button), no Referer leaking ids, nothing cached on a shared
	// machine after sign-out.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	m := c.mux
	m.Handle("GET "+Path+"assets/", http.StripPrefix(Path+"assets/", http.FileServerFS(mustSub(files, "assets"))))
	m.HandleFunc("GET "+Path+"signin", c.signInForm)
	m.HandleFunc("POST "+Path+"signin", c.signIn)
	m.HandleFunc("POST "+Path+"signout", c.withSession(c.signOut))
	m.HandleFunc("GET "+Path+"{$}", c.withSession(c.overview))
	m.HandleFunc("GET "+Path+"subscriptions", c.withSession(c.subscriptions))
	m.HandleFunc("GET "+Path+"subscriptions/{id}", c.withSession(c.subscription))
	m.HandleFunc("POST "+Path+"subscriptions/{id}/state", c.withSession(c.setState))
	m.HandleFunc("POST "+Path+"subscriptions/{id}/redeliver", c.withSession(c.redeliver))
	m.HandleFunc("POST "+Path+"subscriptions/{id}/events/{eventId}/redeliver", c.withSession(c.redeliverOne))
	m.HandleFunc("GET "+Path+"events", c.withSession(c.events))
	m.HandleFunc("GET "+Path+"events/{id}", c.withSession(c.event))
	m.HandleFunc("GET "+Path+"connector", c.withSession(c.connectorPage))
	m.HandleFunc("GET "+Path+"connector.zip", c.withSession(c.connectorDownload))
	m.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", nil, errorPage{Title: "Not found", Message: "There is no console page at " + r.URL.Path + "."})
	})
}

// session is a signed-in request's session: its token (from the cookie)
// and the stored session with its key.
type session struct {
	token string
	store.Session
}

// csrf is the session's CSRF token: an HMAC of the session token, so it
// needs no storage, differs per session and reveals nothing of the token.
func (s *session) csrf() string { return csrfOf(s.token) }

func csrfOf(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(csrfDomain))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// currentSession returns the request's live session, or nil. A session
// that expired, or whose key was revoked or expired, is deleted and is no
// session.
func (c *Console) currentSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	h := tokenHash(ck.Value)
	s, err := c.cfg.Sessions.SessionByHash(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	if !now.Before(s.ExpiresAt) || s.Key.RevokedAt != nil || (s.Key.ExpiresAt != nil && !now.Before(*s.Key.ExpiresAt)) {
		if err := c.cfg.Sessions.DeleteSession(r.Context(), h); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &session{token: ck.Value, Session: s}, nil
}

// withSession serves a page for a signed-in browser; any other is sent to
// the sign-in form, a POST too, undone. A signed-in POST must carry the
// session's CSRF token, or it is refused with 403 before anything is done.
func (c *Console) withSession(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			c.failure(w, r, nil, err)
			return
		}
		if r.Method == http.MethodPost && s != nil {
			if !validCSRF(r.PostFormValue(csrfField), s.csrf()) {
				c.render(w, r, http.StatusForbidden, "error", s, errorPage{Title: "Form refused",
					Message: "This form did not carry the security token of your session, so nothing was done. Reload the page and submit it again."})
				return
			}
		}
		if s == nil {
			http.Redirect(w, r, Path+"signin", http.StatusSeeOther)
			return
		}
		next(w, r, s)
	}
}

func validCSRF(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Path, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.cfg.SecureCookies || r.TLS != nil}
}

type signInPage struct {
	CSRF      string
	Message   string
	SignedOut bool
}

// signInForm shows the form. Before a session exists its CSRF token is a
// random value in a cookie of its own, repeated in the form (so another
// site cannot sign a browser in with the attacker's key).
func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	if s, err := c.currentSession(r); err == nil && s != nil {
		http.Redirect(w, r, Path, http.StatusSeeOther)
		return
	}
	c.showSignIn(w, r, http.StatusOK, "", r.URL.Query().Has("signedout"))
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, message string, signedOut bool) {
	token, err := newToken()
	if err != nil {
		c.failure(w, r, nil, err)
		return
	}
	http.SetCookie(w, c.cookie(r, signInCookie, token, 3600))
	c.render(w, r, status, "signin", nil, signInPage{CSRF: token, Message: message, SignedOut: signedOut})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(signInCookie)
	if err != nil || !validCSRF(r.PostFormValue(csrfField), ck.Value) {
		c.render(w, r, http.StatusForbidden, "error", nil, errorPage{Title: "Form refused",
			Message: "The sign-in form did not carry its security token. Open the sign-in page again and submit it from there."})
		return
	}
	now := c.cfg.Now()
	key, err := apikey.Verify(r.Context(), c.cfg.Sessions, strings.TrimSpace(r.PostFormValue("key")), now)
	switch {
	case errors.Is(err, apikey.ErrMissing):
		c.showSignIn(w, r, http.StatusUnauthorized, "Enter an API key.", false)
		return
	case errors.Is(err, apikey.ErrRevoked), errors.Is(err, apikey.ErrExpired):
		c.showSignIn(w, r, http.StatusUnauthorized, "That key no longer works ("+strings.TrimPrefix(err.Error(), apikey.ErrInvalid.Error()+": ")+"): ask the tenant's admin for a new one.", false)
		return
	case errors.Is(err, apikey.ErrInvalid):
		c.showSignIn(w, r, http.StatusUnauthorized, "That is not a valid API key. Create one with `triggerd keys create --tenant NAME`.", false)
		return
	case err != nil:
		c.failure(w, r, nil, err)
		return
	}
	token, err := newToken()
	if err != nil {
		c.failure(w, r, nil, err)
		return
	}
	expires := now.Add(c.cfg.SessionLifetime)
	if key.ExpiresAt != nil && key.ExpiresAt.Before(expires) {
		expires = *key.ExpiresAt
	}
	if err := c.cfg.Sessions.CreateSession(r.Context(), store.SessionParams{TokenHash: tokenHash(token), KeyID: key.ID,
		TenantID: key.Tenant.ID, Now: now, ExpiresAt: expires}); err != nil {
		c.failure(w, r, nil, err)
		return
	}
	c.cfg.Logger.InfoContext(r.Context(), "console sign-in", "tenant", key.Tenant.Name, "key", key.ID)
	http.SetCookie(w, c.cookie(r, signInCookie, "", -1))
	// Max-Age in whole seconds, rounded up: 0 would mean no Max-Age at all.
	http.SetCookie(w, c.cookie(r, SessionCookie, token, int((expires.Sub(now)+time.Second-1)/time.Second)))
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Sessions.DeleteSession(r.Context(), tokenHash(s.token)); err != nil {
		c.failure(w, r, s, err)
		return
	}
	http.SetCookie(w, c.cookie(r, SessionCookie, "", -1))
	http.Redirect(w, r, Path+"signin?signedout", http.StatusSeeOther)
}

// apiError is an answer of the API that was not a success.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// recorder collects the API's answer to an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(p)
}
func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}

// call makes an API request as the session's key, in-process, and decodes
// its JSON answer into out. A non-2xx answer is an *apiError carrying the
// API's own message.
func (c *Console) call(r *http.Request, s *session, method, path string, body, out any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("console: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(httpapi.AsKey(r.Context(), s.Key), method, connector.APIVersionPath+path, rd)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = r.RemoteAddr
	rec := &recorder{header: http.Header{}}
	c.cfg.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status < 200 || rec.status > 299 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		return &apiError{Status: rec.status, Code: e.Error.Code, Message: e.Error.Message, RetryAfter: rec.header.Get("Retry-After")}
	}
	if out == nil || rec.body.Len() == 0 {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("console: decode %s %s: %w", method, path, err)
	}
	return nil
}

type errorPage struct {
	Title   string
	Message string
	Back    string
}

// failure renders an error: the API's status and message for an API
// error, a 500 that says nothing of the cause otherwise (the cause is
// logged).
func (c *Console) failure(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		title := http.StatusText(ae.Status)
		switch ae.Status {
		case http.StatusNotFound:
			title = "Not found"
		case http.StatusForbidden:
			title = "Not allowed with this key"
		}
		if ae.RetryAfter != "" {
			w.Header().Set("Retry-After", ae.RetryAfter)
		}
		c.render(w, r, ae.Status, "error", s, errorPage{Title: title, Message: ae.Message, Back: r.Referer()})
		return
	}
	// The console's own reads and writes (its sessions, the keys) answer a
	// database that is busy or down as the API does: 503, Retry-After.
	if reason, ok := sqlstore.Unavailable(err); ok {
		c.cfg.Logger.WarnContext(r.Context(), "console: database unavailable", "method", r.Method, "path", r.URL.Path, "reason", reason, "error", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(httpapi.RetryAfterUnavailable/time.Second)))
		c.render(w, r, http.StatusServiceUnavailable, "error", s, errorPage{Title: "Database unavailable",
			Message: reason + "; nothing was changed. Try again in a few seconds."})
		return
	}
	c.cfg.Logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	c.render(w, r, http.StatusInternalServerError, "error", s, errorPage{Title: "Something went wrong",
		Message: "triggerd could not complete the request. Try again; the server's log says what failed."})
}

// seeOther sends the browser back to a page after a POST, with a notice.
func seeOther(w http.ResponseWriter, r *http.Request, path string, notice url.Values) {
	if len(notice) > 0 {
		path += "?" + notice.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func subscriptionPath(id string) string { return Path + "subscriptions/" + url.PathEscape(id) }
func eventPath(id string) string        { return Path + "events/" + url.PathEscape(id) }

// host is the host of a callback URL (the API's redacted form): never its
// path or query, which carry the platform's signature.
func host(callback string) string {
	u, err := url.Parse(callback)
	if err != nil || u.Host == "" {
		return "(unreadable URL)"
	}
	return u.Host
}

// thousands formats n with comma separators: 1,234,567.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
