package triggerd_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// TestCreateAPIKeyWithoutPublisher issues a key on a database no Publisher
// has opened (as `triggerd keys create` does), then authenticates with it
// through a Publisher started later on the same database.
func TestCreateAPIKeyWithoutPublisher(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		ctx := context.Background()
		db := be.Open(t)

		_, err := triggerd.CreateAPIKey(ctx, db, "")
		require.ErrorContains(t, err, "tenant name is required")

		key, err := triggerd.CreateAPIKey(ctx, db, "acme")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(key, triggerd.APIKeyPrefix), key)
		var jobs int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&jobs))
		require.Zero(t, jobs, "issuing a key schedules nothing")

		p, err := triggerd.New(ctx, db, triggerd.Config{PublicURL: "http://127.0.0.1"})
		require.NoError(t, err)
		other, err := p.CreateAPIKey(ctx, "acme")
		require.NoError(t, err)
		for _, k := range []string{key, other} {
			r := httptest.NewRequest("GET", "/orders/1", nil)
			r.Header.Set(triggerd.APIKeyHeader, k)
			tenant, err := p.Authenticate(r)
			require.NoError(t, err)
			require.Equal(t, "acme", tenant)
		}
		for _, k := range []string{"", "tdk_unknown"} {
			r := httptest.NewRequest("GET", "/orders/1", nil)
			if k != "" {
				r.Header.Set(triggerd.APIKeyHeader, k)
			}
			_, err := p.Authenticate(r)
			require.ErrorIs(t, err, triggerd.ErrUnauthorized, k)
		}
	})
}

// TestPublicResultTypes checks that results and input errors reach the
// caller as triggerd's own types, every field filled.
func TestPublicResultTypes(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{noStart: true})
	res, err := b.p.Publish(b.ctx, "acme",
		triggerd.Event{Type: "order.created", ID: "k1", Data: order(1, "new")},
		triggerd.Event{Type: "order.created", ID: "k1", Data: order(1, "new")})
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.True(t, strings.HasPrefix(res[0].ID, "evt_"), res[0].ID)
	require.Equal(t, triggerd.PublishResult{ID: res[0].ID, Type: "order.created", IdempotencyKey: "k1"}, res[0])
	require.Equal(t, triggerd.PublishResult{ID: res[0].ID, Type: "order.created", IdempotencyKey: "k1", Duplicate: true}, res[1])

	_, err = b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "order.created", Data: order(1, "new")},
		triggerd.Event{Type: "order.created", Data: map[string]any{"id": 2, "order_key": "k"}})
	var ie *triggerd.InputError
	require.True(t, errors.As(err, &ie), "%T", err)
	require.Equal(t, 1, ie.Index)
	require.True(t, ie.SchemaMismatch)
	require.True(t, strings.HasPrefix(ie.Path, "data"), ie.Path)
	require.NotEmpty(t, ie.Message)
	require.Equal(t, "events[1]."+ie.Path+": "+ie.Message, ie.Error())

	_, err = b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "order.created", Data: make(chan int)})
	require.ErrorAs(t, err, &ie)
	require.Equal(t, triggerd.InputError{Index: 0, Path: "data", Message: ie.Message}, *ie)
	require.Contains(t, ie.Message, "cannot be encoded as JSON")
}
