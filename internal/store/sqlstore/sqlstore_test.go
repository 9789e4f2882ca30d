package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/httpapi"
	"github.com/triggerd/triggerd/internal/poll"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// The store satisfies the interface each of its consumers declares.
var (
	_ publish.Store  = (*sqlstore.Store)(nil)
	_ poll.Store     = (*sqlstore.Store)(nil)
	_ httpapi.Store  = (*sqlstore.Store)(nil)
	_ delivery.Store = (*sqlstore.Store)(nil)
	_ apikey.Finder  = (*sqlstore.Store)(nil)
	_ apikey.Creator = (*sqlstore.Store)(nil)
)

// TestConformance runs the store's conformance suite on every backend.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t)
}

// TestPostgresConcurrentMigrate starts several migrations at once, as nodes
// starting together do; the advisory lock makes them take turns.
func TestPostgresConcurrentMigrate(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sqlstore.OpenPostgres(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			st, err := sqlstore.New(db, sqlstore.Postgres)
			if err != nil {
				errs <- err
				return
			}
			errs <- st.Migrate(context.Background(), nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
