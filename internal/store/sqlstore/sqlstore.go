// Package sqlstore is triggerd's store on database/sql. One set of queries
// serves every supported database; the dialect only changes placeholders and
// the migrations. Using database/sql for every backend is deliberate: an
// embedding application passes its own *sql.Tx to publish events inside its
// own transaction, whatever the database.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/triggerd/triggerd/internal/keyring"
	"github.com/triggerd/triggerd/internal/store"
)

// Dialect names a supported database.
type Dialect string

const (
	// SQLite is the embedded default (modernc.org/sqlite, no cgo).
	SQLite Dialect = "sqlite"

	// Postgres is PostgreSQL through pgx's database/sql driver, for several
	// stateless nodes on one database.
	Postgres Dialect = "postgres"
)

// migrationLockKey is the PostgreSQL advisory lock held while migrating, so
// nodes starting together migrate one after the other.
const migrationLockKey = 0x74726967 // "trig"

//go:embed migration
var migrationFS embed.FS

// Store is triggerd's durable state on a database/sql pool. It satisfies
// the store interfaces that publish, poll, httpapi, delivery and apikey
// declare (checked in sqlstore_test.go).
type Store struct {
	db      *sql.DB
	dialect Dialect
	queries sync.Map // query text with ? → the dialect's form
	// keys encrypts callback URLs and secrets; nil stores them in clear.
	keys *keyring.Keyring
}

// SetKeyring makes the store encrypt callback URLs and secrets with kr
// (and key its callback index with it), and open what it sealed. Call it
// before use. Values stored in clear before stay readable;
// ReencryptSubscriptions seals them.
func (s *Store) SetKeyring(kr *keyring.Keyring) { s.keys = kr }

// openSubscription decrypts a scanned subscription's credentials.
func (s *Store) openSubscription(sub *store.Subscription) error {
	for _, f := range []*string{&sub.CallbackURL, &sub.Secret, &sub.PreviousSecret} {
		v, err := s.keys.Open(*f, sub.ID)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", sub.ID, err)
		}
		*f = v
	}
	return nil
}

// New returns a store on db. Call Migrate before use.
func New(db *sql.DB, dialect Dialect) (*Store, error) {
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unsupported dialect %q", dialect)
	}
	return &Store{db: db, dialect: dialect}, nil
}

// DB returns the underlying pool.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate brings the schema to the latest version in one transaction, then
// runs also (the job queue's migrations, which on PostgreSQL cannot share a
// transaction: River adds an enum value and uses it). Each step is
// idempotent, so a crash between them is completed by the next start. On
// PostgreSQL an advisory lock, per schema, makes nodes that start together
// migrate one after the other.
func (s *Store) Migrate(ctx context.Context, also func(ctx context.Context) error) error {
	if s.dialect == Postgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLockKey)
		}()
	}
	if err := s.migrateTables(ctx); err != nil {
		return err
	}
	if also != nil {
		if err := also(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

func (s *Store) migrateTables(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS triggerd_migration (
		version    INTEGER PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: create version table: %w", err)
	}
	dir := "migration/" + string(s.dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration file name %q", e.Name())
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM triggerd_migration WHERE version = ?`), version).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(migrationFS, dir+"/"+e.Name())
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate: %s: %w", e.Name(), err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO triggerd_migration (version, applied_at) VALUES (?, ?)`), version, micros(time.Now())); err != nil {
			return fmt.Errorf("migrate: %s: %w", e.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// q rewrites ? placeholders for the dialect ($1, $2, … on PostgreSQL). No
// query of ours has a ? inside a string literal.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	s.queries.Store(query, b.String())
	return b.String()
}

// Dialect is the store's database dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// lockSubscriptionTx serializes batch bookkeeping per subscription on
// PostgreSQL, where a seal and a publish on different nodes could otherwise
// each miss the other's uncommitted item. SQLite has one writer already.
func (s *Store) lockSubscriptionTx(ctx context.Context, tx *sql.Tx, subscriptionID string) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM triggerd_subscription WHERE id = $1 FOR UPDATE`, subscriptionID)
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// CreateAPIKey stores the hash of a new key for a tenant, creating the
// tenant if it is new.
func (s *Store) CreateAPIKey(ctx context.Context, p store.APIKeyParams) (store.Tenant, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Tenant{}, fmt.Errorf("create api key: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	t, err := s.EnsureTenantTx(ctx, tx, p.Tenant)
	if err != nil {
		return store.Tenant{}, fmt.Errorf("create api key: %w", err)
	}
	keyID := p.ID
	if keyID == "" {
		keyID = "key_" + ulid.Make().String()
	}
	scopes := strings.Join(p.Scopes, ",")
	if scopes == "" {
		scopes = "admin"
	}
	var expires any
	if p.ExpiresAt != nil {
		expires = micros(*p.ExpiresAt)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO triggerd_api_key (key_hash, tenant_id, created_at, id, name, scopes, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`),
		p.KeyHash, t.ID, micros(p.Tenant.Now), keyID, p.Name, scopes, expires); err != nil {
		return store.Tenant{}, fmt.Errorf("create api key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Tenant{}, fmt.Errorf("create api key: commit: %w", err)
	}
	return t, nil
}

// EnsureTenantTx returns the tenant with this name inside tx, creating
// it (with newID) if it does not exist.
func (s *Store) EnsureTenantTx(ctx context.Context, tx *sql.Tx, p store.TenantParams) (store.Tenant, error) {
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO triggerd_tenant (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`),
		p.NewID, p.Name, micros(p.Now)); err != nil {
		return store.Tenant{}, fmt.Errorf("ensure tenant %q: %w", p.Name, err)
	}
	t, err := s.scanTenant(tx.QueryRowContext(ctx, s.q(`SELECT id, name, created_at FROM triggerd_tenant WHERE name = ?`), p.Name))
	if err != nil {
		return store.Tenant{}, fmt.Errorf("ensure tenant %q: %w", p.Name, err)
	}
	return t, nil
}

func (s *Store) scanTenant(row *sql.Row) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Tenant{}, store.ErrNotFound
		}
		return store.Tenant{}, err
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// TenantByAPIKey finds the tenant owning a key hash.
func (s *Store) TenantByAPIKey(ctx context.Context, keyHash []byte) (store.Tenant, error) {
	t, err := s.scanTenant(s.db.QueryRowContext(ctx, s.q(`SELECT t.id, t.name, t.created_at
		FROM triggerd_api_key k JOIN triggerd_tenant t ON t.id = k.tenant_id WHERE k.key_hash = ?`), keyHash))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("find tenant by api key: %w", err)
	}
	return t, err
}

const apiKeyColumns = `k.id, k.name, k.scopes, k.created_at, k.expires_at, k.revoked_at, t.id, t.name, t.created_at`

func scanAPIKey(row rowScanner) (store.APIKey, error) {
	var (
		k                store.APIKey
		scopes           string
		created, tenCrea int64
		expires, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &scopes, &created, &expires, &revoked, &k.Tenant.ID, &k.Tenant.Name, &tenCrea); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return k, store.ErrNotFound
		}
		return k, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt = fromMicros(created)
	k.Tenant.CreatedAt = fromMicros(tenCrea)
	k.ExpiresAt = fromNullMicros(expires)
	k.RevokedAt = fromNullMicros(revoked)
	return k, nil
}

// APIKeyByHash finds a key by its hash, revoked and expired ones included:
// the caller decides, and can say why a key no longer works. It reads the
// database on every call, so a revocation holds on the next request on
// every node.
func (s *Store) APIKeyByHash(ctx context.Context, keyHash []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+apiKeyColumns+`
		FROM triggerd_api_key k JOIN triggerd_tenant t ON t.id = k.tenant_id WHERE k.key_hash = ?`), keyHash))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return k, fmt.Errorf("find api key: %w", err)
	}
	return k, err
}

// APIKeys lists a tenant's keys, or every tenant's when tenantID is empty,
// oldest first, revoked ones included.
func (s *Store) APIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+apiKeyColumns+`
		FROM triggerd_api_key k JOIN triggerd_tenant t ON t.id = k.tenant_id
		WHERE ? = '' OR k.tenant_id = ? ORDER BY t.name, k.created_at, k.id`), tenantID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key of the tenant (of any tenant when tenantID is
// empty) and returns it. Revoking a revoked key succeeds and keeps the
// first revocation time; ErrNotFound means no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string, now time.Time) (store.APIKey, error) {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE triggerd_api_key SET revoked_at = ?
		WHERE id = ? AND (? = '' OR tenant_id = ?) AND revoked_at IS NULL`), micros(now), id, tenantID, tenantID); err != nil {
		return store.APIKey{}, fmt.Errorf("revoke api key: %w", err)
	}
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+apiKeyColumns+`
		FROM triggerd_api_key k JOIN triggerd_tenant t ON t.id = k.tenant_id
		WHERE k.id = ? AND (? = '' OR k.tenant_id = ?)`), id, tenantID, tenantID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return k, fmt.Errorf("revoke api key: %w", err)
	}
	return k, err
}

const subscriptionColumns = `id, tenant_id, trigger_name, callback_url, filters, secret, state, state_reason,
	created_at, updated_at, previous_secret, previous_secret_until`

type rowScanner interface{ Scan(dest ...any) error }

func scanSubscription(row rowScanner) (store.Subscription, error) {
	var (
		sub              store.Subscription
		filters          string
		state            string
		created, updated int64
		previousUntil    sql.NullInt64
	)
	err := row.Scan(&sub.ID, &sub.TenantID, &sub.Trigger, &sub.CallbackURL, &filters, &sub.Secret, &state, &sub.StateReason,
		&created, &updated, &sub.PreviousSecret, &previousUntil)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return sub, store.ErrNotFound
		}
		return sub, err
	}
	sub.State = store.SubscriptionState(state)
	sub.CreatedAt = fromMicros(created)
	sub.UpdatedAt = fromMicros(updated)
	sub.PreviousSecretUntil = fromNullMicros(previousUntil)
	if filters == "{}" {
		// Most subscriptions set no filter, and publishing reads every
		// active one of its trigger per event: an empty map without the
		// JSON decoder's reflection (what decoding "{}" would give).
		sub.Filters = map[string]string{}
		return sub, nil
	}
	if err := json.Unmarshal([]byte(filters), &sub.Filters); err != nil {
		return sub, fmt.Errorf("decode filters of %s: %w", sub.ID, err)
	}
	return sub, nil
}

func encodeFilters(f map[string]string) string {
	if f == nil {
		f = map[string]string{}
	}
	b, _ := json.Marshal(f) // a map[string]string always marshals
	return string(b)
}

// CreateSubscription registers a callback. If the tenant already has a
// live subscription with the same trigger and callback URL, that one is
// returned with created=false instead (the platform re-subscribes on every
// save of a flow, https://github.com/microsoft/PowerPlatformConnectors/issues); its filters are updated
// to the new ones and it is made active again.
func (s *Store) CreateSubscription(ctx context.Context, p store.SubscriptionParams) (store.Subscription, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	// The callback index is an HMAC with the keyring's first key; a row
	// indexed with an older key (or, before encryption, a bare hash) is
	// found too, so re-registering during a key rotation finds the
	// subscription instead of duplicating it.
	indexes := s.keys.Indexes(p.CallbackURL)
	filters := encodeFilters(p.Filters)
	now := micros(p.Now)
	existing, err := s.liveSubscriptionID(ctx, tx, p.TenantID, p.Trigger, indexes)
	if err != nil {
		return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
	}
	created := false
	if existing == "" {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO triggerd_subscription
			(id, tenant_id, trigger_name, callback_url, callback_hash, filters, secret, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
			ON CONFLICT (tenant_id, trigger_name, callback_hash) WHERE state <> 'deleted' DO NOTHING`),
			p.ID, p.TenantID, p.Trigger, s.keys.Seal(p.CallbackURL, p.ID), indexes[0], filters, s.keys.Seal(p.Secret, p.ID), now, now)
		if err != nil {
			return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
		}
		created, existing = n == 1, p.ID
		if !created { // registered concurrently, between the lookup and here
			if existing, err = s.liveSubscriptionID(ctx, tx, p.TenantID, p.Trigger, indexes[:1]); err != nil {
				return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
			}
		}
	}
	if !created {
		// The same flow saved again: refresh what may have changed and bring
		// a subscription that went inactive back to life, since the platform
		// subscribing again proves the flow exists.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE triggerd_subscription
			SET filters = ?, state = 'active', state_reason = '', updated_at = ?
			WHERE id = ?`), filters, now, existing); err != nil {
			return store.Subscription{}, false, fmt.Errorf("create subscription: refresh existing: %w", err)
		}
	}
	sub, err := scanSubscription(tx.QueryRowContext(ctx, s.q(`SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE id = ?`), existing))
	if err == nil {
		err = s.openSubscription(&sub)
	}
	if err != nil {
		return store.Subscription{}, false, fmt.Errorf("create subscription: read back: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Subscription{}, false, fmt.Errorf("create subscription: commit: %w", err)
	}
	if !created {
		if err := s.addHealth(ctx, &sub); err != nil {
			return store.Subscription{}, false, fmt.Errorf("create subscription: %w", err)
		}
	}
	return sub, created, nil
}

// liveSubscriptionID finds the tenant's live subscription of a trigger
// whose callback index is one of indexes; "" when there is none.
func (s *Store) liveSubscriptionID(ctx context.Context, tx *sql.Tx, tenantID, trigger string, indexes [][]byte) (string, error) {
	args := []any{tenantID, trigger}
	for _, ix := range indexes {
		args = append(args, ix)
	}
	var id string
	err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM triggerd_subscription
		WHERE tenant_id = ? AND trigger_name = ? AND callback_hash IN (`+placeholders(len(indexes))+`) AND state <> 'deleted'
		ORDER BY created_at, id LIMIT 1`), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// addHealth fills a subscription's last result and its failures since the
// last success from its attempts.
func (s *Store) addHealth(ctx context.Context, sub *store.Subscription) error {
	subs := []store.Subscription{*sub}
	if err := s.addHealthMany(ctx, subs); err != nil {
		return err
	}
	*sub = subs[0]
	return nil
}

// addHealthMany does addHealth for many subscriptions with two queries per
// hundred of them, not two each: a tenant's list stays cheap however many
// subscriptions it has.
func (s *Store) addHealthMany(ctx context.Context, subs []store.Subscription) error {
	for start := 0; start < len(subs); start += insertChunk {
		chunk := subs[start:min(start+insertChunk, len(subs))]
		byID := make(map[string]*store.Subscription, len(chunk))
		args := make([]any, len(chunk))
		for i := range chunk {
			byID[chunk[i].ID] = &chunk[i]
			args[i] = chunk[i].ID
		}
		in := placeholders(len(chunk))
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.subscription_id, a.started_at, a.status, a.error
			FROM triggerd_attempt a JOIN (
				SELECT MAX(id) AS id FROM triggerd_attempt WHERE subscription_id IN (`+in+`) GROUP BY subscription_id
			) last ON last.id = a.id`), args...)
		if err != nil {
			return fmt.Errorf("subscription health: %w", err)
		}
		for rows.Next() {
			var (
				id, errText string
				started     int64
				status      int
			)
			if err := rows.Scan(&id, &started, &status, &errText); err != nil {
				rows.Close()
				return fmt.Errorf("subscription health: %w", err)
			}
			sub := byID[id]
			at := fromMicros(started)
			sub.LastAttemptAt, sub.LastStatus, sub.LastError = &at, status, errText
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("subscription health: %w", err)
		}
		rows, err = s.db.QueryContext(ctx, s.q(`SELECT a.subscription_id, COUNT(*)
			FROM triggerd_attempt a LEFT JOIN (
				SELECT subscription_id, MAX(id) AS id FROM triggerd_attempt
				WHERE outcome = 'delivered' AND subscription_id IN (`+in+`) GROUP BY subscription_id
			) ok ON ok.subscription_id = a.subscription_id
			JOIN triggerd_subscription s ON s.id = a.subscription_id
			WHERE a.subscription_id IN (`+in+`) AND a.id > COALESCE(ok.id, 0) AND a.id > s.failures_after
			GROUP BY a.subscription_id`), append(args, args...)...)
		if err != nil {
			return fmt.Errorf("subscription health: %w", err)
		}
		for rows.Next() {
			var (
				id string
				n  int
			)
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return fmt.Errorf("subscription health: %w", err)
			}
			byID[id].ConsecutiveFailures = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("subscription health: %w", err)
		}
	}
	return nil
}

// Subscription returns a tenant's subscription, deleted ones included.
func (s *Store) Subscription(ctx context.Context, tenantID, id string) (store.Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, s.q(`SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if err == nil {
		err = s.openSubscription(&sub)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return sub, err
		}
		return sub, fmt.Errorf("get subscription: %w", err)
	}
	return sub, s.addHealth(ctx, &sub)
}

// SubscriptionByID returns any subscription, for the delivery engine.
func (s *Store) SubscriptionByID(ctx context.Context, id string) (store.Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, s.q(`SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE id = ?`), id))
	if err == nil {
		err = s.openSubscription(&sub)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return sub, fmt.Errorf("get subscription: %w", err)
	}
	return sub, err
}

func (s *Store) querySubscriptions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.Subscription, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []store.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err == nil {
			err = s.openSubscription(&sub)
		}
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, rows.Err()
}

// Subscriptions lists a tenant's subscriptions that are not deleted,
// oldest first.
func (s *Store) Subscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error) {
	subs, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE tenant_id = ? AND state <> 'deleted' ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	if err := s.addHealthMany(ctx, subs); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// DeleteSubscription marks a tenant's subscription deleted. Deleting one
// already deleted succeeds; ErrNotFound means the tenant never owned it.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE triggerd_subscription SET state = 'deleted', state_reason = 'deregistered', updated_at = ?
		WHERE tenant_id = ? AND id = ? AND state <> 'deleted'`), micros(now), tenantID, id)
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	} else if n == 1 {
		return nil
	}
	// Nothing changed: either already deleted by its owner (success, DELETE
	// is idempotent) or never the tenant's.
	_, err = s.Subscription(ctx, tenantID, id)
	return err
}

// RotateSubscriptionSecret replaces the signing secret of a tenant's live
// subscription. The replaced secret stays valid for signing until
// now+grace (none when grace is 0); a rotation during another's grace
// replaces that grace's secret. ErrNotFound means the tenant has no such
// subscription, or it is deleted: a deleted subscription keeps no usable
// secret.
func (s *Store) RotateSubscriptionSecret(ctx context.Context, tenantID, id, secret string, now time.Time, grace time.Duration) (store.Subscription, error) {
	keep, until := `secret`, any(micros(now.Add(grace)))
	if grace <= 0 {
		keep, until = `''`, nil
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE triggerd_subscription
		SET previous_secret = `+keep+`, previous_secret_until = ?, secret = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND state <> 'deleted'`), until, s.keys.Seal(secret, id), micros(now), tenantID, id)
	if err != nil {
		return store.Subscription{}, fmt.Errorf("rotate subscription secret: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Subscription{}, fmt.Errorf("rotate subscription secret: %w", err)
	} else if n == 0 {
		return store.Subscription{}, store.ErrNotFound
	}
	return s.Subscription(ctx, tenantID, id)
}

// ActiveSubscriptionsTx lists the active subscriptions of a tenant's
// trigger inside the publishing transaction.
func (s *Store) ActiveSubscriptionsTx(ctx context.Context, tx *sql.Tx, tenantID, trigger string) ([]store.Subscription, error) {
	subs, err := s.querySubscriptions(ctx, tx, `SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE tenant_id = ? AND trigger_name = ? AND state = 'active' ORDER BY id`, tenantID, trigger)
	if err != nil {
		return nil, fmt.Errorf("list active subscriptions: %w", err)
	}
	return subs, nil
}

const eventColumns = `seq, id, tenant_id, type, idempotency_key, data, created_at`

func scanEvent(row rowScanner) (store.Event, error) {
	var (
		e       store.Event
		key     sql.NullString
		created int64
	)
	if err := row.Scan(&e.Seq, &e.ID, &e.TenantID, &e.Type, &key, &e.Data, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return e, store.ErrNotFound
		}
		return e, err
	}
	e.IdempotencyKey = key.String
	e.CreatedAt = fromMicros(created)
	return e, nil
}

// insertChunk bounds the rows of one multi-row INSERT: a request's events
// or a group commit's attempts go in a few statements, not one round trip
// each (on PostgreSQL, a round trip per row was the publishing bound).
const insertChunk = 100

// rowsPlaceholders is "(?, ?, …), (?, ?, …)" for n rows of cols values.
func rowsPlaceholders(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// InsertEventsTx appends events to the log inside tx. An event whose
// idempotency key the tenant already used for the same type, with the same
// data, is not inserted again: it is answered as a duplicate of the earlier
// one. With different data it is a *store.IdempotencyConflictError, and
// the caller must roll tx back (part of the request may be inserted).
func (s *Store) InsertEventsTx(ctx context.Context, tx *sql.Tx, events []store.EventParams) ([]store.InsertedEvent, error) {
	inserted := make(map[string]store.Event, len(events))
	for start := 0; start < len(events); start += insertChunk {
		chunk := events[start:min(start+insertChunk, len(events))]
		args := make([]any, 0, len(chunk)*6)
		for _, p := range chunk {
			var key any
			if p.IdempotencyKey != "" {
				key = p.IdempotencyKey
			}
			args = append(args, p.ID, p.TenantID, p.Type, key, p.Data, micros(p.Now))
		}
		rows, err := tx.QueryContext(ctx, s.q(`INSERT INTO triggerd_event (id, tenant_id, type, idempotency_key, data, created_at)
			VALUES `+rowsPlaceholders(len(chunk), 6)+`
			ON CONFLICT (tenant_id, type, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING `+eventColumns), args...)
		if err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("insert events: %w", err)
			}
			inserted[e.ID] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
	}
	// Rows not returned hit an idempotency key used before for the same
	// type (or earlier in this same call): answer with the event that holds
	// the key, if it carries the same data.
	out := make([]store.InsertedEvent, len(events))
	for i, p := range events {
		if e, ok := inserted[p.ID]; ok {
			out[i] = store.InsertedEvent{Event: e}
			continue
		}
		e, err := scanEvent(tx.QueryRowContext(ctx, s.q(`SELECT `+eventColumns+` FROM triggerd_event
			WHERE tenant_id = ? AND type = ? AND idempotency_key = ?`), p.TenantID, p.Type, p.IdempotencyKey))
		if err != nil {
			return nil, fmt.Errorf("insert events: find duplicate %q: %w", p.IdempotencyKey, err)
		}
		if !bytes.Equal(e.Data, p.Data) {
			return nil, &store.IdempotencyConflictError{Index: i, Key: p.IdempotencyKey, Type: p.Type, EventID: e.ID}
		}
		out[i] = store.InsertedEvent{Event: e, Duplicate: true}
	}
	return out, nil
}

// Events returns events by id, in the order asked.
func (s *Store) Events(ctx context.Context, ids []string) ([]store.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+eventColumns+` FROM triggerd_event WHERE id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("get events: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]store.Event, len(ids))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("get events: %w", err)
		}
		byID[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get events: %w", err)
	}
	out := make([]store.Event, 0, len(ids))
	for _, id := range ids {
		e, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("get events: %s: %w", id, store.ErrNotFound)
		}
		out = append(out, e)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// RecordAttemptsTx stores attempts inside tx (the delivery engine
// commits many at once, with its queue changes). The ID is set only when
// one attempt is recorded.
//
// Attempts are written with
// multi-row INSERTs; the ID is set only when a single attempt is recorded.
func (s *Store) RecordAttemptsTx(ctx context.Context, tx *sql.Tx, records []store.AttemptRecord) error {
	for start := 0; start < len(records); start += insertChunk {
		chunk := records[start:min(start+insertChunk, len(records))]
		args := make([]any, 0, len(chunk)*11)
		for _, r := range chunk {
			a := r.Attempt
			ids, _ := json.Marshal(a.EventIDs) // a []string always marshals
			var next any
			if a.NextAttemptAt != nil {
				next = micros(*a.NextAttemptAt)
			}
			args = append(args, a.SubscriptionID, a.WebhookID, string(ids), a.Number, micros(a.StartedAt),
				a.Duration.Microseconds(), a.Status, a.Error, string(a.Outcome), next, a.Response)
		}
		query := `INSERT INTO triggerd_attempt
			(subscription_id, webhook_id, event_ids, number, started_at, duration_us, status, error, outcome, next_attempt_at, response)
			VALUES ` + rowsPlaceholders(len(chunk), 11)
		if len(records) == 1 {
			if err := tx.QueryRowContext(ctx, s.q(query+` RETURNING id`), args...).Scan(&records[0].Attempt.ID); err != nil {
				return fmt.Errorf("record attempt: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
			return fmt.Errorf("record attempts: %w", err)
		}
	}
	for _, r := range records {
		if r.Deactivate == "" {
			continue
		}
		a := r.Attempt
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE triggerd_subscription SET state = 'inactive', state_reason = ?, updated_at = ?
			WHERE id = ? AND state = 'active'`), r.Deactivate, micros(a.StartedAt.Add(a.Duration)), a.SubscriptionID); err != nil {
			return fmt.Errorf("record attempt: deactivate subscription: %w", err)
		}
	}
	return nil
}

// AttemptedTx reports, inside tx, which of the (subscription, webhook
// id) pairs of these webhook ids have at least one recorded attempt.
func (s *Store) AttemptedTx(ctx context.Context, tx *sql.Tx, webhookIDs []string) (map[[2]string]bool, error) {
	out := map[[2]string]bool{}
	for start := 0; start < len(webhookIDs); start += insertChunk {
		chunk := webhookIDs[start:min(start+insertChunk, len(webhookIDs))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT DISTINCT subscription_id, webhook_id FROM triggerd_attempt
			WHERE webhook_id IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("find attempted deliveries: %w", err)
		}
		for rows.Next() {
			var sub, id string
			if err := rows.Scan(&sub, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find attempted deliveries: %w", err)
			}
			out[[2]string{sub, id}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("find attempted deliveries: %w", err)
		}
	}
	return out, nil
}

// Attempts lists the latest attempts of a tenant's subscription, newest
// first.
func (s *Store) Attempts(ctx context.Context, tenantID, subscriptionID string, limit int) ([]store.Attempt, error) {
	return s.AttemptsPage(ctx, store.AttemptQuery{TenantID: tenantID, SubscriptionID: subscriptionID, Limit: limit})
}

// AddBatchItemTx queues an event for a batch-mode subscription's next
// notification inside tx and returns how many events now wait for it.
func (s *Store) AddBatchItemTx(ctx context.Context, tx *sql.Tx, p store.BatchItemParams) (int, error) {
	subscriptionID := p.SubscriptionID
	if err := s.lockSubscriptionTx(ctx, tx, subscriptionID); err != nil {
		return 0, fmt.Errorf("queue batch item: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO triggerd_batch_item (subscription_id, event_seq, event_id, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (subscription_id, event_seq) DO NOTHING`), subscriptionID, p.EventSeq, p.EventID, micros(p.Now)); err != nil {
		return 0, fmt.Errorf("queue batch item: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM triggerd_batch_item WHERE subscription_id = ?`), subscriptionID).Scan(&n); err != nil {
		return 0, fmt.Errorf("queue batch item: count: %w", err)
	}
	return n, nil
}

// TakeBatchTx removes up to limit waiting events of a subscription,
// oldest first, if a batch is due: limit events wait, or the oldest was
// queued at or before dueBy. It says how many remain and when the oldest
// remaining one was queued.
func (s *Store) TakeBatchTx(ctx context.Context, tx *sql.Tx, subscriptionID string, limit int, dueBy time.Time) (store.Batch, error) {
	if err := s.lockSubscriptionTx(ctx, tx, subscriptionID); err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	waiting, oldest, err := s.batchState(ctx, tx, subscriptionID)
	if err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	if waiting == 0 || (waiting < limit && oldest.After(dueBy)) {
		return store.Batch{Remaining: waiting, OldestRemaining: oldest}, nil
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT event_seq, event_id FROM triggerd_batch_item
		WHERE subscription_id = ? ORDER BY event_seq LIMIT ?`), subscriptionID, limit)
	if err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	var (
		ids     []string
		lastSeq int64
	)
	for rows.Next() {
		var id string
		if err := rows.Scan(&lastSeq, &id); err != nil {
			rows.Close()
			return store.Batch{}, fmt.Errorf("take batch: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM triggerd_batch_item WHERE subscription_id = ? AND event_seq <= ?`), subscriptionID, lastSeq); err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	remaining, oldest, err := s.batchState(ctx, tx, subscriptionID)
	if err != nil {
		return store.Batch{}, fmt.Errorf("take batch: %w", err)
	}
	return store.Batch{EventIDs: ids, Remaining: remaining, OldestRemaining: oldest}, nil
}

func (s *Store) batchState(ctx context.Context, tx *sql.Tx, subscriptionID string) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), MIN(created_at) FROM triggerd_batch_item WHERE subscription_id = ?`), subscriptionID).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, err
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}
