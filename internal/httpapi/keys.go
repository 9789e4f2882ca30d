package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/store"
)

// KeysPath is where admin keys manage their tenant's keys. It is not part
// of the connector definition: makers never see it.
const KeysPath = "/keys"

// keysBodyMax bounds a key creation request.
const keysBodyMax = 4 << 10

// keyView is a key as the API shows it; Key is set only in the 201 of its
// creation.
type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	Key       string     `json:"key,omitempty"`
}

func viewKey(k store.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
}

// createKey answers POST /v1/keys {"scopes": ["connection"], "name": "…",
// "expires": "90d"}: a new key of the caller's tenant, shown once.
func (a *api) createKey(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, keysBodyMax)
	if !ok {
		return
	}
	if err := CheckUTF8(body); err != nil {
		writeRequestError(w, err)
		return
	}
	var req struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		Expires string   `json:"expires"`
	}
	var fields map[string]json.RawMessage
	if err := strictObject(body, &fields); err != nil {
		writeRequestError(w, err)
		return
	}
	for name := range fields {
		if name != "name" && name != "scopes" && name != "expires" {
			writeError(w, http.StatusUnprocessableEntity, "invalid_request", "unknown field "+strconvQuote(name)+": a key has name, scopes and expires")
			return
		}
	}
	if err := strictJSON(body, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	scopes, err := apikey.ParseScopes(req.Scopes)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", "scopes: "+err.Error())
		return
	}
	var lifetime time.Duration
	if req.Expires != "" {
		if lifetime, err = apikey.ParseLifetime(req.Expires); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_request", "expires: "+err.Error())
			return
		}
	}
	tenant := tenantOf(r)
	is, err := apikey.CreateWith(r.Context(), a.Store, tenant.Name, apikey.Options{Name: req.Name, Scopes: scopes, Lifetime: lifetime}, a.Now())
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", err.Error())
		return
	}
	keys, err := a.Store.APIKeys(r.Context(), tenant.ID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	for _, k := range keys {
		if k.ID == is.ID {
			v := viewKey(k)
			v.Key = is.Key
			a.Logger.InfoContext(r.Context(), "api key created", "tenant", tenant.Name, "key", k.ID, "by", keyOf(r).ID, "scopes", k.Scopes)
			writeJSON(w, http.StatusCreated, v)
			return
		}
	}
	a.internalError(w, r, errors.New("create api key: the new key is not listed"))
}

// listKeys answers GET /v1/keys: the tenant's keys, never the keys
// themselves (only their hashes are stored).
func (a *api) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.Store.APIKeys(r.Context(), tenantOf(r).ID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	views := make([]keyView, len(keys))
	for i, k := range keys {
		views[i] = viewKey(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": views})
}

// revokeKey answers DELETE /v1/keys/{id}: the key stops working from the
// next request. Another tenant's key id is a 404.
func (a *api) revokeKey(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	k, err := a.Store.RevokeAPIKey(r.Context(), tenant.ID, r.PathValue("id"), a.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no key with this id")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "api key revoked", "tenant", tenant.Name, "key", k.ID, "by", keyOf(r).ID)
	writeJSON(w, http.StatusOK, viewKey(k))
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
