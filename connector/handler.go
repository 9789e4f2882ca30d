package connector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Handler serves the connector definition (apiDefinition.swagger.json) for
// GET and HEAD, the route GET /v1/openapi.json, so an author can import the
// live definition instead of a stale copy. It answers conditional requests
// through a strong ETag of the content; other methods get 405.
//
// The files are generated once, at startup, from the same catalog and public
// URL the server uses, e.g.:
//
//	files, err := connector.Generate(cat, connector.Options{PublicURL: publicURL})
//	...
//	mux.Handle("GET /v1/openapi.json", connector.Handler(files))
func Handler(files *Files) http.Handler {
	body := bytes.Clone(files.Definition)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("ETag", etag)
		// Revalidate each time: the definition changes when the catalog
		// does, and a 304 costs nothing.
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, DefinitionFile, time.Time{}, bytes.NewReader(body))
	})
}
