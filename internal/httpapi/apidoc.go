package httpapi

import (
	_ "embed" // the API's own OpenAPI document
	"net/http"
)

// APIDocPath is where the management API's own OpenAPI 3.1 document is
// served; the custom connector's Swagger 2.0 definition stays at
// /v1/openapi.json, since the Power Platform reads only that version.
const APIDocPath = "/api.json"

// apiDoc describes every route New registers (apidoc_test.go checks it
// against the mux and the answers of real requests against its schemas).
//
//go:embed api.json
var apiDoc []byte

func serveAPIDoc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(apiDoc)
}
