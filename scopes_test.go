package triggerd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

type keyResponse struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expiresAt"`
	RevokedAt *time.Time `json:"revokedAt"`
	Key       string     `json:"key"`
}

// newKey creates a key through POST /v1/keys with the bundle's admin key.
func (b *testBundle) newKey(t *testing.T, scopes ...string) keyResponse {
	t.Helper()
	var k keyResponse
	resp := b.call(t, http.MethodPost, "/v1/keys", "", map[string]any{"scopes": scopes, "name": strings.Join(scopes, "+")}, &k)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, k.Key)
	return k
}

// TestScopeBoundaries calls every route with a key of every scope: a
// connection key registers, reads, deletes and polls; a publish key
// publishes; an admin key does everything. Outside its scope a key gets 403
// naming the scope it needs.
func TestScopeBoundaries(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rc := newReceiver(t, nil)
	keys := map[string]string{
		"connection": b.newKey(t, "connection").Key,
		"publish":    b.newKey(t, "publish").Key,
		"admin":      b.key,
	}
	n := 0
	fresh := func() string { // a subscription of the tenant for routes that need one
		n++
		sub, _ := b.register(t, "order.created", rc.URL+"/hook/"+strings.Repeat("x", n), nil)
		return sub.ID
	}
	validEvent := map[string]any{"type": "order.created", "data": order(1, "new")}
	event := b.publish(t, validEvent).Events[0].ID
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, route := range []struct {
		name   string
		needs  string
		method string
		path   func() string
		body   any
		ok     int
	}{
		{"register", "connection", "POST", func() string { return "/v1/webhooks/order.created" }, map[string]string{"callbackUrl": rc.URL + "/reg"}, 201},
		{"list", "connection", "GET", func() string { return "/v1/webhooks" }, nil, 200},
		{"get", "connection", "GET", func() string { return "/v1/webhooks/" + fresh() }, nil, 200},
		{"delete", "connection", "DELETE", func() string { return "/v1/webhooks/" + fresh() }, nil, 204},
		{"poll", "connection", "GET", func() string { return "/v1/trigger/order.created" }, nil, 202},
		{"publish", "publish", "POST", func() string { return "/v1/events" }, validEvent, 202},
		{"attempts", "connection", "GET", func() string { return "/v1/webhooks/" + fresh() + "/attempts" }, nil, 200},
		{"disable", "admin", "PATCH", func() string { return "/v1/webhooks/" + fresh() }, map[string]string{"state": "inactive"}, 200},
		{"redeliver window", "admin", "POST", func() string { return "/v1/webhooks/" + fresh() + "/redeliver" }, map[string]string{"since": since}, 202},
		{"redeliver event", "admin", "POST", func() string { return "/v1/webhooks/" + fresh() + "/events/" + event + "/redeliver" }, nil, 202},
		{"list events", "admin", "GET", func() string { return "/v1/events" }, nil, 200},
		{"get event", "admin", "GET", func() string { return "/v1/events/" + event }, nil, 200},
		{"rotate secret", "admin", "POST", func() string { return "/v1/webhooks/" + fresh() + "/secret" }, nil, 200},
		{"create key", "admin", "POST", func() string { return "/v1/keys" }, map[string]any{"scopes": []string{"publish"}}, 201},
		{"list keys", "admin", "GET", func() string { return "/v1/keys" }, nil, 200},
		{"revoke key", "admin", "DELETE", func() string { return "/v1/keys/" + b.newKey(t, "publish").ID }, nil, 200},
	} {
		for scope, key := range keys {
			allowed := scope == route.needs || scope == "admin"
			var e struct {
				Error struct{ Code, Message string }
			}
			resp := b.call(t, route.method, route.path(), key, route.body, &e)
			if allowed {
				require.Equal(t, route.ok, resp.StatusCode, "%s with a %s key: %s", route.name, scope, e.Error.Message)
				continue
			}
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s with a %s key", route.name, scope)
			require.Equal(t, "forbidden", e.Error.Code)
			require.Contains(t, e.Error.Message, `"`+route.needs+`" scope`, "the 403 names the scope needed")
		}
	}

	// Another tenant's ids stay 404, never 403, whatever the scope.
	other, err := b.p.CreateAPIKey(b.ctx, "globex")
	require.NoError(t, err)
	id := fresh()
	for _, req := range [][2]string{{"GET", "/v1/webhooks/" + id}, {"DELETE", "/v1/webhooks/" + id}, {"POST", "/v1/webhooks/" + id + "/secret"}, {"DELETE", "/v1/keys/" + b.newKey(t, "publish").ID}} {
		resp := b.call(t, req[0], req[1], other, nil, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, req)
	}
}

// TestConnectionKeyRenewal: the platform deletes the old registration with
// the renewed connection's credentials, so a different connection key of
// the same tenant must be able to DELETE it.
func TestConnectionKeyRenewal(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rc := newReceiver(t, nil)
	first, second := b.newKey(t, "connection"), b.newKey(t, "connection")
	var sub subscription
	resp := b.call(t, http.MethodPost, "/v1/webhooks/order.created", first.Key, map[string]string{"callbackUrl": rc.URL + "/hook"}, &sub)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp = b.call(t, http.MethodDelete, "/v1/webhooks/"+sub.ID, second.Key, nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

// TestRevocationIsImmediateOnEveryNode revokes a key on one node and checks
// that the next request fails on that node and on another node of the same
// database: nothing caches keys.
func TestRevocationIsImmediateOnEveryNode(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, noStart: true})
		second, err := triggerd.New(context.Background(), b.db, triggerd.Config{AllowPrivateCallbacks: true, PublicURL: "http://127.0.0.1"})
		require.NoError(t, err)
		node2 := httptest.NewServer(second.Handler())
		t.Cleanup(node2.Close)
		k := b.newKey(t, "connection")
		get := func(base string) int {
			req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, base+"/v1/webhooks", nil)
			require.NoError(t, err)
			req.Header.Set(triggerd.APIKeyHeader, k.Key)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusOK, get(b.api.URL))
		require.Equal(t, http.StatusOK, get(node2.URL))

		var revoked keyResponse
		resp := b.call(t, http.MethodDelete, "/v1/keys/"+k.ID, "", nil, &revoked)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotNil(t, revoked.RevokedAt)
		require.Equal(t, http.StatusUnauthorized, get(b.api.URL), "the next request on the same node")
		require.Equal(t, http.StatusUnauthorized, get(node2.URL), "and on another node")

		var list struct{ Keys []keyResponse }
		b.call(t, http.MethodGet, "/v1/keys", "", nil, &list)
		require.Len(t, list.Keys, 2)
		for _, l := range list.Keys {
			require.Empty(t, l.Key, "a listed key never shows the key")
		}
	})
}

// TestKeyRequests: bad key creation requests are 422 and create nothing.
func TestKeyRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for body, want := range map[string]string{
		`{"scopes":[]}`:                            "at least one scope",
		`{"scopes":["root"]}`:                      `unknown scope "root"`,
		`{"scopes":["publish"],"expires":"0d"}`:    "more than 0",
		`{"scopes":["publish"],"expires":"soon"}`:  "90d",
		`{"scopes":["publish"],"name":"a\u0000b"}`: "U+0000",
		`{"scopes":["publish"],"colour":"red"}`:    `unknown field "colour"`,
	} {
		var e struct {
			Error struct{ Code, Message string }
		}
		resp := b.call(t, http.MethodPost, "/v1/keys", "", body, &e)
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, body)
		require.Contains(t, e.Error.Message, want, body)
	}
	var list struct{ Keys []keyResponse }
	b.call(t, http.MethodGet, "/v1/keys", "", nil, &list)
	require.Len(t, list.Keys, 1, "only the bundle's own key")
	k := b.newKey(t, "publish")
	var created keyResponse
	resp := b.call(t, http.MethodPost, "/v1/keys", "", `{"scopes":["connection"],"expires":"90d","name":"flow"}`, &created)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotNil(t, created.ExpiresAt)
	require.WithinDuration(t, time.Now().Add(90*24*time.Hour), *created.ExpiresAt, time.Minute)
	require.NotEqual(t, k.ID, created.ID)
}
