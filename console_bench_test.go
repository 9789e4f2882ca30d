package triggerd_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// Seed sizes of BenchmarkConsolePages: the page budget holds at
// 10,000 subscriptions and 1,000,000 attempts.
const (
	benchSubscriptions = 10_000
	benchAttempts      = 1_000_000
	benchEvents        = 10_000
	// benchHistory is the span the attempts are spread over, evenly: about
	// 6,000 fall in the Overview's last hour.
	benchHistory = 7 * 24 * time.Hour
)

// BenchmarkConsolePages measures each console page's response time, signed
// in, on a database seeded with 10,000 subscriptions of one tenant (1% of
// them disabled, 2% failing) and 1,000,000 attempts over a week (100 per
// subscription, 100 per event), and 10,000 events. Seeding is bulk SQL
// (a recursive CTE on SQLite, generate_series on PostgreSQL): seconds, not
// minutes. Run it with
//
//	go test -run '^$' -bench BenchmarkConsolePages -benchtime 200x .
//
// The figures are in docs/performance.md; pages must stay well under
// 100 ms. It is no timed pass/fail test: timings are only reported.
func BenchmarkConsolePages(b *testing.B) {
	storetest.BenchBackends(b, func(b *testing.B, be storetest.Backend) {
		ctx := context.Background()
		db := be.Open(b)
		p, err := triggerd.New(ctx, db, triggerd.Config{PublicURL: "http://127.0.0.1:1"})
		if err != nil {
			b.Fatal(err)
		}
		key, err := p.CreateAPIKey(ctx, "acme")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		seedConsole(b, db, be == storetest.Postgres)
		b.Logf("seeded %d subscriptions, %d attempts and %d events in %s", benchSubscriptions, benchAttempts, benchEvents, time.Since(start).Round(time.Millisecond))
		h := p.Handler()
		cookie := benchSignIn(b, h, key)
		for _, page := range []struct{ name, path string }{
			{"Overview", "/ui/"},
			{"Subscriptions", "/ui/subscriptions"},
			{"SubscriptionsDeepPage", "/ui/subscriptions?cursor=" + webhookCursor("sub_00007000")},
			{"Subscription", "/ui/subscriptions/sub_00005002"},
			{"Events", "/ui/events"},
			{"Event", "/ui/events/evt_00004242"},
			{"EventByIdempotencyKey", "/ui/events/order-4242"},
			{"Connector", "/ui/connector"},
		} {
			b.Run(page.name, func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, page.path, nil)
					req.AddCookie(cookie)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", page.path, rec.Code, rec.Body.String())
					}
				}
			})
		}
	})
}

// webhookCursor is the API's cursor of GET /v1/webhooks after id (the
// page a "Next page" link deep in the list leads to).
func webhookCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("w:" + id)) }

// benchSignIn signs in through the console's form and returns the session
// cookie.
func benchSignIn(b *testing.B, h http.Handler, key string) *http.Cookie {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/signin", nil))
	signin := rec.Result().Cookies()[0]
	m := csrfInput.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatal("no CSRF token on the sign-in form")
	}
	req := httptest.NewRequest(http.MethodPost, "/ui/signin", strings.NewReader(url.Values{"csrf": {m[1]}, "key": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(signin)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "triggerd_session" {
			return c
		}
	}
	b.Fatalf("sign-in failed: %d %s", rec.Code, rec.Body.String())
	return nil
}

// seedConsole fills the database with bulk INSERT … SELECT statements.
func seedConsole(b *testing.B, db *sql.DB, postgres bool) {
	b.Helper()
	ctx := context.Background()
	var tenant string
	if err := db.QueryRowContext(ctx, `SELECT id FROM triggerd_tenant WHERE name = 'acme'`).Scan(&tenant); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMicro()
	from := now - benchHistory.Microseconds()
	step := benchHistory.Microseconds() / benchAttempts
	// seq is the rows 0…n-1; pad(prefix, expr) an id like sub_00000042.
	seq := func(n int) (with, from string) {
		if postgres {
			return "", ` FROM generate_series(0::bigint, ` + itoa(n-1) + `) AS n(i)`
		}
		return `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + itoa(n-1) + `) `, ` FROM n`
	}
	pad := func(prefix, expr string) string {
		if postgres {
			return `'` + prefix + `' || lpad((` + expr + `)::text, 8, '0')`
		}
		return `printf('` + prefix + `%08d', ` + expr + `)`
	}
	str := func(expr string) string {
		if postgres {
			return `(` + expr + `)::text`
		}
		return `(` + expr + `)`
	}
	blob, hashOf := `CAST('{"id": ' || i || '}' AS BLOB)`, `randomblob(32)`
	if postgres {
		blob, hashOf = `convert_to('{"id": ' || i || '}', 'UTF8')`, `decode(md5(i::text), 'hex')`
	}
	w, f := seq(benchSubscriptions)
	stmts := []string{
		w + `INSERT INTO triggerd_subscription (id, tenant_id, trigger_name, callback_url, callback_hash, filters, secret, state, state_reason, created_at, updated_at)
		SELECT ` + pad("sub_", "i") + `, '` + tenant + `', CASE WHEN i % 100 = 1 THEN 'order.updated' ELSE 'order.created' END,
			'https://receiver-' || ` + str("i % 500") + ` || '.example.com/workflows/' || ` + str("i") + ` || '/run?sig=secret', ` + hashOf + `, '{}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
			CASE WHEN i % 100 = 0 THEN 'inactive' ELSE 'active' END, CASE WHEN i % 100 = 0 THEN 'disabled' ELSE '' END,
			` + itoa64(from) + ` + i, ` + itoa64(from) + ` + i` + f,
	}
	w, f = seq(benchEvents)
	stmts = append(stmts, w+`INSERT INTO triggerd_event (id, tenant_id, type, idempotency_key, data, created_at)
		SELECT `+pad("evt_", "i")+`, '`+tenant+`', 'order.created', 'order-' || `+str("i")+`, `+blob+`, `+itoa64(from)+` + i * `+itoa64(benchHistory.Microseconds()/benchEvents)+f)
	// Attempt i goes to subscription i % 10,000 and carries event
	// (i / 100) % 10,000; subscriptions with i % 50 = 2 fail every time.
	w, f = seq(benchAttempts)
	failing := `(i % ` + itoa(benchSubscriptions) + `) % 50 = 2`
	stmts = append(stmts, w+`INSERT INTO triggerd_attempt (subscription_id, webhook_id, event_ids, number, started_at, duration_us, status, error, outcome, next_attempt_at, response)
		SELECT `+pad("sub_", "i % "+itoa(benchSubscriptions))+`, `+pad("evt_", "(i / 100) % "+itoa(benchEvents))+`,
			'["' || `+pad("evt_", "(i / 100) % "+itoa(benchEvents))+` || '"]', 1, `+itoa64(from)+` + i * `+itoa64(step)+`, 12000 + i % 5000,
			CASE WHEN `+failing+` THEN 503 WHEN i % 97 = 0 THEN 500 ELSE 200 END,
			CASE WHEN `+failing+` THEN 'callback answered 503 Service Unavailable' WHEN i % 97 = 0 THEN 'callback answered 500 Internal Server Error' ELSE '' END,
			CASE WHEN `+failing+` OR i % 97 = 0 THEN 'retry' ELSE 'delivered' END, NULL,
			CASE WHEN `+failing+` THEN 'flow paused: quota exceeded' ELSE 'accepted' END`+f)
	// PostgreSQL's autovacuum analyzes a table after a bulk load like
	// this; doing it now measures the plans a running deployment gets.
	// SQLite is measured without ANALYZE, as most deployments run it.
	if postgres {
		stmts = append(stmts, `ANALYZE`)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			b.Fatalf("seed: %v\n%s", err, s)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
