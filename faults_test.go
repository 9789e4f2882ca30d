package triggerd_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// dbFile is the path of a bundle's SQLite file.
func dbFile(t *testing.T, b *testBundle) string {
	t.Helper()
	var seq int
	var name, file string
	require.NoError(t, b.db.QueryRow(`SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &file))
	return file
}

func countEvents(t *testing.T, b *testBundle) int {
	t.Helper()
	var n int
	require.NoError(t, b.db.QueryRow(`SELECT count(*) FROM triggerd_event`).Scan(&n))
	return n
}

// lockFile holds the write lock of b's SQLite file from a connection of its
// own, as another process holding a write transaction would, until unlock.
// unlock is also a cleanup registered after setup's, so the lock is released
// before the publisher stops even when an assertion fails; calling it twice
// is fine.
func lockFile(t *testing.T, b *testBundle) (unlock func()) {
	t.Helper()
	other, err := triggerd.OpenSQLite(dbFile(t, b))
	require.NoError(t, err)
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`)
	require.NoError(t, err)
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			_, err := conn.ExecContext(context.Background(), `ROLLBACK`)
			require.NoError(t, err)
			require.NoError(t, conn.Close())
			require.NoError(t, other.Close())
		})
	}
	t.Cleanup(unlock)
	return unlock
}

// TestLockedSQLiteAnswers503: another process holding a write transaction
// on the file makes a publish answer 503 with Retry-After and the reason,
// within the bounded wait, and stores nothing.
func TestLockedSQLiteAnswers503(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/hook", nil)

	unlock := lockFile(t, b)

	var body struct {
		Error struct{ Code, Message string }
	}
	resp := b.call(t, http.MethodPost, "/v1/events", "", map[string]any{"type": "order.created", "data": order(1, "new")}, &body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "database_unavailable", body.Error.Code)
	// Which layer's bound fires first depends on who else waits for the
	// file (SQLite's busy timeout: "locked by another process"; the
	// request's deadline: "busy or locked"); either way the answer says so.
	require.Contains(t, body.Error.Message, "locked")

	unlock()
	require.Zero(t, countEvents(t, b), "a request answered 503 stored nothing")

	// Once the lock is gone, publishing works again.
	b.publish(t, map[string]any{"type": "order.created", "data": order(2, "new")})
	rc.next(t)
}

// TestDatabaseWaitBoundsARequest: Config.DatabaseWait shorter than SQLite's
// busy timeout ends a publish that waits for a locked file with the
// request's own deadline (its message says so), still a 503 that stored
// nothing, even after the lock is gone.
func TestDatabaseWaitBoundsARequest(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{cfg: triggerd.Config{DatabaseWait: 100 * time.Millisecond}})
	unlock := lockFile(t, b)

	var body apiErrorBody
	resp := b.call(t, http.MethodPost, "/v1/events", "", map[string]any{"type": "order.created", "data": order(1, "new")}, &body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Contains(t, body.Error.Message, "did not answer in time", "the request's deadline, not SQLite's 5 s busy timeout")

	// The 503 is true: the request's transaction ended with its deadline
	// and did not commit once the lock went. The next publish, answered
	// after any earlier group, finds only its own event.
	unlock()
	b.publish(t, map[string]any{"type": "order.created", "data": order(2, "new")})
	require.Equal(t, 1, countEvents(t, b), "a request answered 503 stored nothing")
}

// TestConsoleLockedSQLite: the console's own writes (its sessions) answer a
// locked database file as the API does, 503 with Retry-After, and sign-in
// works again once the lock is gone.
func TestConsoleLockedSQLite(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	br := newBrowserClient(t, b.api.URL)
	_, form := br.do(http.MethodGet, "/ui/signin", nil)
	unlock := lockFile(t, b)

	resp, page := br.do(http.MethodPost, "/ui/signin", url.Values{"csrf": {csrf(t, form)}, "key": {b.key}})
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, page)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Contains(t, page, "locked")
	require.Nil(t, cookieNamed(resp, "triggerd_session"))
	require.NotContains(t, page, b.key)

	unlock()
	resp, _ = br.signIn(b.key)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotNil(t, cookieNamed(resp, "triggerd_session"))
}

// proxy is a TCP relay on loopback in front of the test PostgreSQL server,
// which a test can cut to see the database go away.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
	}
}

// cut closes the listener and every relayed connection: the database is
// now unreachable, as when its server stops.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestStoppedPostgresAnswers503: with the database gone, a publish and a
// registration answer 503 with Retry-After within the bounded wait, and
// /healthz says so.
func TestStoppedPostgresAnswers503(t *testing.T) {
	t.Parallel()
	dsn := storetest.Postgres.DSN(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	db, err := triggerd.OpenPostgres(context.Background(), u.String())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	b := setup(t, &setupOpts{postgres: true, db: db})
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/hook", nil)
	b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
	rc.next(t)

	px.cut()
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/v1/events", map[string]any{"type": "order.created", "data": order(2, "new")}},
		{http.MethodPost, "/v1/webhooks/order.created", map[string]any{"callbackUrl": rc.URL + "/other"}},
		{http.MethodGet, "/healthz", nil},
	} {
		resp := b.call(t, req.method, req.path, "", req.body, nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, req.path)
		require.NotEmpty(t, resp.Header.Get("Retry-After"), req.path)
	}
}

// TestDamagedSQLiteRefusedAtStart: a file with overwritten pages is refused
// by New with a message naming the file and how to restore it, and the
// full check reports it.
func TestDamagedSQLiteRefusedAtStart(t *testing.T) {
	t.Parallel()
	for name, spread := range map[string]bool{"every other page": true, "the last pages": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testDamaged(t, spread)
		})
	}
}

func testDamaged(t *testing.T, spread bool) {
	path := filepath.Join(t.TempDir(), "triggerd.db")
	db, err := triggerd.OpenSQLite(path)
	require.NoError(t, err)
	ctx := context.Background()
	p, err := triggerd.New(ctx, db, triggerd.Config{PublicURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	for i := range 30 {
		_, err := p.CreateAPIKey(ctx, "tenant-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		require.NoError(t, err)
	}
	_, err = db.Exec(`VACUUM`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	damage(t, path, spread)

	db, err = triggerd.OpenSQLite(path)
	if err == nil {
		defer db.Close()
		_, err = triggerd.New(ctx, db, triggerd.Config{PublicURL: "http://127.0.0.1:1"})
	}
	require.Error(t, err)
	require.ErrorContains(t, err, path)
	require.ErrorContains(t, err, "restore")
}

// damage overwrites pages with garbage, as a disk or a careless copy
// would: every other page after the first (spread), or the last two, which
// leaves the schema readable so only the page check can tell.
func damage(t *testing.T, path string, spread bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	info, err := f.Stat()
	require.NoError(t, err)
	const page = 4096
	require.Greater(t, info.Size(), int64(3*page), "the file has pages to damage")
	junk := make([]byte, page)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	start, step := int64(page), int64(2*page)
	if !spread {
		start, step = info.Size()-2*page, page
	}
	for off := start; off < info.Size(); off += step {
		_, err := f.WriteAt(junk, off)
		require.NoError(t, err)
	}
}
