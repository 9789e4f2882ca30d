package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

type keysCmd struct {
	Create keysCreateCmd `cmd:"" help:"Create an API key for a tenant (creating the tenant if new) and print it: the only time it is shown."`
	List   keysListCmd   `cmd:"" help:"List API keys: id, tenant, name, scopes, expiry, revocation. Never the keys themselves."`
	Revoke keysRevokeCmd `cmd:"" help:"Revoke an API key by id; it stops working on the next request, on every node."`

	RotateEncryption keysRotateEncryptionCmd `cmd:"" name:"rotate-encryption" help:"Re-encrypt every stored callback URL and secret with the first key of the keyring, in batches; then the old keys can be dropped."`
}

type keysRotateEncryptionCmd struct {
	dbFlags
	EncryptionKey string `name:"encryption-key" env:"TRIGGERD_ENCRYPTION_KEY" help:"The keyring: the new key first, then the old ones (comma-separated base64). Default on SQLite: the key file beside the database."`
	Batch         int    `default:"500" help:"Subscriptions re-encrypted per transaction (at least 1)."`
}

func (c *keysRotateEncryptionCmd) Run() error {
	if c.Batch < 1 {
		return fmt.Errorf("--batch is %d; give 1 or more", c.Batch)
	}
	ctx := context.Background()
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := triggerd.ReencryptSubscriptions(ctx, db, c.EncryptionKey, c.Batch)
	if err != nil {
		return err
	}
	fmt.Printf("re-encrypted %d subscriptions with the first key; the other keys of the keyring can now be removed\n", n)
	return nil
}

type keysCreateCmd struct {
	dbFlags
	Tenant  string   `required:"" help:"Tenant that owns the key; every subscription and event belongs to one tenant."`
	Scope   []string `default:"admin" help:"What the key may do: connection (what a Power Platform connection needs: register, read and delete subscriptions, poll), publish (publish events), admin (everything in the tenant, keys included). Repeat or comma-separate for several."`
	Expires string   `help:"Lifetime, as days (90d) or a duration (12h); the key stops working after it. Default: no expiry."`
	Name    string   `help:"A label for the key, shown by keys list (\"billing app\", \"flow connection\")."`
	JSON    bool     `name:"json" help:"Print the key's id, scopes and expiry as JSON with the key, instead of the key alone."`
}

// keyStore opens the store behind the keys commands: only the store, since
// managing keys needs no delivery engine, job queue or connector.
func keyStore(ctx context.Context, f dbFlags) (*sql.DB, *sqlstore.Store, error) {
	db, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := triggerd.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, nil, err
	}
	dialect, err := sqlstore.DetectDialect(db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	st, err := sqlstore.New(db, dialect)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, st, nil
}

func (c *keysCreateCmd) Run() error {
	scopes, err := apikey.ParseScopes(c.Scope)
	if err != nil {
		return fmt.Errorf("--scope: %w", err)
	}
	var lifetime time.Duration
	if c.Expires != "" {
		if lifetime, err = apikey.ParseLifetime(c.Expires); err != nil {
			return fmt.Errorf("--expires: %w", err)
		}
	}
	ctx := context.Background()
	db, st, err := keyStore(ctx, c.dbFlags)
	if err != nil {
		return err
	}
	defer db.Close()
	is, err := apikey.CreateWith(ctx, st, c.Tenant, apikey.Options{Name: c.Name, Scopes: scopes, Lifetime: lifetime}, time.Now())
	if err != nil {
		return err
	}
	if !c.JSON {
		fmt.Println(is.Key)
		return nil
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	out := map[string]any{"id": is.ID, "tenant": is.Tenant.Name, "name": c.Name, "scopes": names, "key": is.Key}
	if lifetime > 0 {
		out["expiresAt"] = time.Now().Add(lifetime).UTC().Format(time.RFC3339)
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(out)
}

type keysListCmd struct {
	dbFlags
	Tenant string `help:"Only this tenant's keys (default: every tenant's)."`
}

func (c *keysListCmd) Run() error {
	ctx := context.Background()
	db, st, err := keyStore(ctx, c.dbFlags)
	if err != nil {
		return err
	}
	defer db.Close()
	tenantID := ""
	if c.Tenant != "" {
		var found bool
		keys, err := st.APIKeys(ctx, "")
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.Tenant.Name == c.Tenant {
				tenantID, found = k.Tenant.ID, true
				break
			}
		}
		if !found {
			return fmt.Errorf("no keys for tenant %q", c.Tenant)
		}
	}
	keys, err := st.APIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTENANT\tNAME\tSCOPES\tCREATED\tEXPIRES\tSTATE")
	now := time.Now()
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Tenant.Name, orDash(k.Name), strings.Join(k.Scopes, ","),
			k.CreatedAt.Format(time.RFC3339), timeOrDash(k.ExpiresAt), keyState(k, now))
	}
	return w.Flush()
}

func keyState(k store.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked " + k.RevokedAt.Format(time.RFC3339)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

type keysRevokeCmd struct {
	dbFlags
	ID string `arg:"" help:"The key's id (key_…), as keys list shows it."`
}

func (c *keysRevokeCmd) Run() error {
	ctx := context.Background()
	db, st, err := keyStore(ctx, c.dbFlags)
	if err != nil {
		return err
	}
	defer db.Close()
	k, err := st.RevokeAPIKey(ctx, "", c.ID, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no key %q: see triggerd keys list", c.ID)
	}
	if err != nil {
		return err
	}
	fmt.Printf("revoked %s (tenant %s) at %s\n", k.ID, k.Tenant.Name, k.RevokedAt.Format(time.RFC3339))
	return nil
}
