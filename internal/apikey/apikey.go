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
	"strings"
	"time"

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
)

// Finder finds the tenant owning a key hash; store.ErrNotFound means none.
// sqlstore.Store satisfies it.
type Finder interface {
	TenantByAPIKey(ctx context.Context, keyHash []byte) (store.Tenant, error)
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

// Create issues a new key for the named tenant, creating the tenant if it
// is new, and returns the key: the only time it is visible.
func Create(ctx context.Context, st Creator, tenant string, now time.Time) (string, store.Tenant, error) {
	if strings.TrimSpace(tenant) == "" {
		return "", store.Tenant{}, errors.New("create api key: tenant name is required")
	}
	key, err := Generate()
	if err != nil {
		return "", store.Tenant{}, err
	}
	t, err := st.CreateAPIKey(ctx, store.APIKeyParams{
		Tenant:  store.TenantParams{Name: tenant, NewID: store.NewTenantID(), Now: now},
		KeyHash: Hash(key),
	})
	if err != nil {
		return "", store.Tenant{}, fmt.Errorf("create api key for tenant %q: %w", tenant, err)
	}
	return key, t, nil
}

// Authenticate returns the tenant owning key. It returns ErrMissing for an
// empty key and ErrInvalid for an unknown one; any other error is the
// store's, and says nothing about the key.
func Authenticate(ctx context.Context, st Finder, key string) (store.Tenant, error) {
	if key == "" {
		return store.Tenant{}, ErrMissing
	}
	t, err := st.TenantByAPIKey(ctx, Hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, ErrInvalid
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("authenticate: %w", err)
	}
	return t, nil
}
