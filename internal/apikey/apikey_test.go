package apikey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		key, err := apikey.Generate()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(key, apikey.Prefix), key)
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, apikey.Prefix))
		require.NoError(t, err, "the random part is unpadded URL-safe base64, safe in a header")
		require.Len(t, raw, 32, "256 random bits")
		require.False(t, seen[key], "keys never repeat")
		seen[key] = true
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	a, b := apikey.Hash("tdk_a"), apikey.Hash("tdk_b")
	require.Len(t, a, 32)
	require.Equal(t, a, apikey.Hash("tdk_a"), "a lookup must find the stored hash again")
	require.NotEqual(t, a, b)
	require.False(t, bytes.Contains(a, []byte("tdk_a")))
}

func TestCreateAndAuthenticate(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		ctx := context.Background()
		st := be.Store(t)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

		key, tenant, err := apikey.Create(ctx, st, "acme", now)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(key, apikey.Prefix))
		require.Equal(t, "acme", tenant.Name)
		require.True(t, strings.HasPrefix(tenant.ID, "ten_"), tenant.ID)

		got, err := apikey.Authenticate(ctx, st, key)
		require.NoError(t, err)
		require.Equal(t, tenant.ID, got.ID)
		require.Equal(t, "acme", got.Name)

		// A second key joins the same tenant; both work.
		key2, again, err := apikey.Create(ctx, st, "acme", now)
		require.NoError(t, err)
		require.NotEqual(t, key, key2)
		require.Equal(t, tenant.ID, again.ID)
		got, err = apikey.Authenticate(ctx, st, key2)
		require.NoError(t, err)
		require.Equal(t, tenant.ID, got.ID)

		// Only the hash is stored, never the key.
		var stored int
		require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM triggerd_api_key`).Scan(&stored))
		require.Equal(t, 2, stored)
		rows, err := st.DB().QueryContext(ctx, `SELECT key_hash FROM triggerd_api_key`)
		require.NoError(t, err)
		var hashes [][]byte
		for rows.Next() {
			var h []byte
			require.NoError(t, rows.Scan(&h))
			hashes = append(hashes, h)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.ElementsMatch(t, [][]byte{apikey.Hash(key), apikey.Hash(key2)}, hashes)

		_, err = apikey.Authenticate(ctx, st, "")
		require.ErrorIs(t, err, apikey.ErrMissing)
		_, err = apikey.Authenticate(ctx, st, apikey.Prefix+"not-a-key")
		require.ErrorIs(t, err, apikey.ErrInvalid)
		_, err = apikey.Authenticate(ctx, st, strings.TrimPrefix(key, apikey.Prefix))
		require.ErrorIs(t, err, apikey.ErrInvalid, "the key without its prefix is another key")
	})
}

func TestCreateRefusesEmptyTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.SQLite.Store(t)
	for _, name := range []string{"", "   "} {
		_, _, err := apikey.Create(ctx, st, name, time.Now())
		require.ErrorContains(t, err, "tenant name is required")
	}
	var tenants int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM triggerd_tenant`).Scan(&tenants))
	require.Zero(t, tenants, "a refused key creates no tenant")
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := apikey.ParseScopes([]string{"connection,publish", "connection"})
	require.NoError(t, err)
	require.Equal(t, []apikey.Scope{apikey.ScopeConnection, apikey.ScopePublish}, got)
	_, err = apikey.ParseScopes([]string{"root"})
	require.ErrorContains(t, err, "connection, publish, admin")
	_, err = apikey.ParseScopes(nil)
	require.ErrorContains(t, err, "at least one scope")

	require.True(t, apikey.Allows([]string{"connection"}, apikey.ScopeConnection))
	require.False(t, apikey.Allows([]string{"connection"}, apikey.ScopePublish))
	require.False(t, apikey.Allows([]string{"publish"}, apikey.ScopeAdmin))
	require.True(t, apikey.Allows([]string{"admin"}, apikey.ScopePublish), "admin implies every scope")
	require.False(t, apikey.Allows(nil, apikey.ScopeConnection))
}

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour, "1d": 24 * time.Hour} {
		got, err := apikey.ParseLifetime(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"0d", "-1d", "0s", "x", "d", "99999999999d", "87601h", "1.5d"} {
		_, err := apikey.ParseLifetime(in)
		require.Error(t, err, in)
	}
}

// TestVerifyExpiryAndRevocation: an expired or revoked key stops working,
// and says which; scopes come back with the key.
func TestVerifyExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		ctx := context.Background()
		st := be.Store(t)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		is, err := apikey.CreateWith(ctx, st, "acme", apikey.Options{Name: "flow", Scopes: []apikey.Scope{apikey.ScopeConnection}, Lifetime: time.Hour}, now)
		require.NoError(t, err)
		k, err := apikey.Verify(ctx, st, is.Key, now.Add(59*time.Minute))
		require.NoError(t, err)
		require.Equal(t, []string{"connection"}, k.Scopes)
		require.Equal(t, "flow", k.Name)
		require.Equal(t, is.ID, k.ID)
		_, err = apikey.Verify(ctx, st, is.Key, now.Add(time.Hour))
		require.ErrorIs(t, err, apikey.ErrExpired)

		forever, err := apikey.CreateWith(ctx, st, "acme", apikey.Options{Scopes: []apikey.Scope{apikey.ScopePublish}}, now)
		require.NoError(t, err)
		_, err = apikey.Verify(ctx, st, forever.Key, now.Add(100*365*24*time.Hour))
		require.NoError(t, err, "no lifetime, no expiry")
		_, err = st.RevokeAPIKey(ctx, is.Tenant.ID, forever.ID, now)
		require.NoError(t, err)
		_, err = apikey.Verify(ctx, st, forever.Key, now)
		require.ErrorIs(t, err, apikey.ErrRevoked)

		_, err = st.RevokeAPIKey(ctx, "ten_other", is.ID, now)
		require.ErrorIs(t, err, store.ErrNotFound, "another tenant cannot revoke it")
		_, err = apikey.CreateWith(ctx, st, "acme", apikey.Options{}, now)
		require.ErrorContains(t, err, "at least one scope")
		_, err = apikey.CreateWith(ctx, st, "ac\x00me", apikey.Options{Scopes: []apikey.Scope{apikey.ScopeAdmin}}, now)
		require.ErrorContains(t, err, "U+0000")
	})
}
