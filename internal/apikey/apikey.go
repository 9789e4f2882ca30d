// Package apikey issues and checks the API keys that authenticate a tenant:
// the publisher's own calls to POST /v1/events, and the platform's calls on
// behalf of a connection (registration, DELETE, polling), which carry the
// key in the header the generated connector declares as its apiKey
// security definition.
//
// Only a hash of each key is stored, so a copy of the database does not
// hand out working keys; the key itself is shown once, when issued.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/triggerd/triggerd/internal/ident"
	"github.com/triggerd/triggerd/internal/store"
)

// Prefix starts every key triggerd issues, so a leaked key is recognisable
// by secret scanners.
const Prefix = "tdk_"

// keyBytes is the random part of a key: 256 bits, beyond guessing, which is
// also why a plain SHA-256 is enough to store it (Hash).
const keyBytes = 32

var (
	// ErrMissing means no key was presented.
	ErrMissing = errors.New("no API key")

	// ErrInvalid means the key presented is not one triggerd issued, or
	// its tenant no longer has it.
	ErrInvalid = errors.New("the API key is not valid")

	// ErrRevoked means the key was revoked (keys revoke, DELETE /v1/keys/{id}).
	// It is also ErrInvalid, so callers that only tell valid from invalid
	// keys need no change.
	ErrRevoked = fmt.Errorf("%w: it was revoked", ErrInvalid)

	// ErrExpired means the key's expiry has passed; it is also ErrInvalid.
	ErrExpired = fmt.Errorf("%w: it has expired", ErrInvalid)
)

// Scope is what a key may do. A key holds one or more; admin implies the
// others.
type Scope string

const (
	// ScopeConnection is what a Power Platform connection needs: register,
	// read and delete the tenant's subscriptions, and poll. It is the key
	// a maker pastes into the connection, so it cannot publish or manage
	// keys.
	ScopeConnection Scope = "connection"

	// ScopePublish lets an application publish events.
	ScopePublish Scope = "publish"

	// ScopeAdmin is everything in the tenant, keys and secret rotation
	// included. Keys issued before scopes existed are admin keys.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope, in the order messages name them.
var Scopes = []Scope{ScopeConnection, ScopePublish, ScopeAdmin}

// ParseScopes reads scope names ("connection", "publish,admin"); at least
// one is required, and an unknown name is an error that lists the known
// ones.
func ParseScopes(names []string) ([]Scope, error) {
	var out []Scope
	seen := map[Scope]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			sc := Scope(strings.TrimSpace(part))
			if sc == "" {
				continue
			}
			if !slices.Contains(Scopes, sc) {
				return nil, fmt.Errorf("unknown scope %q: use %s", sc, scopeList())
			}
			if !seen[sc] {
				seen[sc] = true
				out = append(out, sc)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("a key needs at least one scope: %s", scopeList())
	}
	return out, nil
}

func scopeList() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Allows says whether a key with these scopes may do what need requires.
func Allows(scopes []string, need Scope) bool {
	for _, s := range scopes {
		if Scope(s) == need || Scope(s) == ScopeAdmin {
			return true
		}
	}
	return false
}

// LifetimeMax bounds --expires: beyond ten years an expiry is no expiry.
const LifetimeMax = 10 * 365 * 24 * time.Hour

// ParseLifetime reads a key's lifetime: a number of days ("90d") or a Go
// duration ("12h"); it must be positive and at most LifetimeMax.
func ParseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("expiry %q: write days as 90d or a duration as 12h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		if n > int(LifetimeMax/(24*time.Hour)) {
			d = LifetimeMax + 1
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("expiry %q: write days as 90d or a duration as 12h", s)
		}
	}
	if d <= 0 || d > LifetimeMax {
		return 0, fmt.Errorf("expiry %q: must be more than 0 and at most %dd", s, int(LifetimeMax/(24*time.Hour)))
	}
	return d, nil
}

// Finder finds a key by its hash; store.ErrNotFound means none.
// sqlstore.Store satisfies it.
type Finder interface {
	APIKeyByHash(ctx context.Context, keyHash []byte) (store.APIKey, error)
}

// Creator stores the hash of a new key, creating its tenant if new.
// sqlstore.Store satisfies it.
type Creator interface {
	CreateAPIKey(ctx context.Context, p store.APIKeyParams) (store.Tenant, error)
}

// Generate returns a new random key: Prefix and 32 random bytes in
// unpadded URL-safe base64, safe in a header without escaping.
func Generate() (string, error) {
	b := make([]byte, keyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is how keys are stored and looked up. SHA-256 without salt is enough
// for random 256-bit keys (there is no dictionary to attack), and keeps a
// lookup one indexed read.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Options describe a key to issue.
type Options struct {
	// Name is the operator's label ("billing app", "flow connection").
	Name string
	// Scopes are what the key may do; at least one.
	Scopes []Scope
	// Lifetime, when positive, makes the key expire that long after now.
	Lifetime time.Duration
}

// Issued is a key just created: Key is the only time the key is visible.
type Issued struct {
	Key    string
	ID     string
	Tenant store.Tenant
}

// Create issues a new admin key for the named tenant, creating the tenant
// if it is new, and returns the key: the only time it is visible.
func Create(ctx context.Context, st Creator, tenant string, now time.Time) (string, store.Tenant, error) {
	is, err := CreateWith(ctx, st, tenant, Options{Scopes: []Scope{ScopeAdmin}}, now)
	return is.Key, is.Tenant, err
}

// CreateWith issues a key with the given name, scopes and lifetime.
func CreateWith(ctx context.Context, st Creator, tenant string, o Options, now time.Time) (Issued, error) {
	if strings.TrimSpace(tenant) == "" {
		return Issued{}, errors.New("create api key: tenant name is required")
	}
	if err := ident.Check("the tenant name", tenant); err != nil {
		return Issued{}, fmt.Errorf("create api key: %w", err)
	}
	if err := ident.Check("the key name", o.Name); err != nil {
		return Issued{}, fmt.Errorf("create api key: %w", err)
	}
	if len(o.Scopes) == 0 {
		return Issued{}, fmt.Errorf("create api key: a key needs at least one scope: %s", scopeList())
	}
	scopes := make([]string, len(o.Scopes))
	for i, sc := range o.Scopes {
		if !slices.Contains(Scopes, sc) {
			return Issued{}, fmt.Errorf("create api key: unknown scope %q: use %s", sc, scopeList())
		}
		scopes[i] = string(sc)
	}
	var expires *time.Time
	if o.Lifetime > 0 {
		e := now.Add(o.Lifetime)
		expires = &e
	}
	key, err := Generate()
	if err != nil {
		return Issued{}, err
	}
	id := "key_" + ulid.Make().String()
	t, err := st.CreateAPIKey(ctx, store.APIKeyParams{
		Tenant:  store.TenantParams{Name: tenant, NewID: store.NewTenantID(), Now: now},
		KeyHash: Hash(key), ID: id, Name: o.Name, Scopes: scopes, ExpiresAt: expires,
	})
	if err != nil {
		return Issued{}, fmt.Errorf("create api key for tenant %q: %w", tenant, err)
	}
	return Issued{Key: key, ID: id, Tenant: t}, nil
}

// Authenticate returns the tenant owning key. It returns ErrMissing for an
// empty key, ErrInvalid for an unknown one, ErrRevoked and ErrExpired for
// keys that no longer work; any other error is the store's, and says
// nothing about the key.
func Authenticate(ctx context.Context, st Finder, key string) (store.Tenant, error) {
	k, err := Verify(ctx, st, key, time.Now())
	return k.Tenant, err
}

// Verify is Authenticate returning the whole key (its scopes included), at
// the time now. It reads the store every time: nothing is cached, so a
// revocation holds from the next request on every node.
func Verify(ctx context.Context, st Finder, key string, now time.Time) (store.APIKey, error) {
	if key == "" {
		return store.APIKey{}, ErrMissing
	}
	k, err := st.APIKeyByHash(ctx, Hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, ErrInvalid
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("authenticate: %w", err)
	}
	if k.RevokedAt != nil {
		return store.APIKey{}, ErrRevoked
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return store.APIKey{}, ErrExpired
	}
	return k, nil
}
