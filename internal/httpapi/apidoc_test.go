package httpapi

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/connector"
)

// routeCall matches the registrations in New: mux.Handle(route(http.MethodX,
// connector.YPath+"/…"), …) and mux.HandleFunc(route(http.MethodX, APIDocPath), …).
var routeCall = regexp.MustCompile(`route\(http\.Method(\w+), (connector\.\w+Path|APIDocPath|KeysPath|OverviewPath)(?:\+"([^"]*)")?\)`)

// TestAPIDocCoversEveryRoute: every route New registers is an operation of
// /v1/api.json, and every operation there is a route (or one of the routes
// the library mounts beside the API).
func TestAPIDocCoversEveryRoute(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("httpapi.go")
	require.NoError(t, err)
	consts := map[string]string{
		"connector.WebhooksPath": connector.WebhooksPath, "connector.EventsPath": connector.EventsPath,
		"connector.TriggerPath": connector.TriggerPath, "APIDocPath": APIDocPath, "KeysPath": KeysPath,
		"OverviewPath": OverviewPath,
	}
	registered := map[string]bool{"GET /healthz": true}
	for _, m := range routeCall.FindAllStringSubmatch(string(src), -1) {
		base, ok := consts[m[2]]
		require.True(t, ok, "unknown path constant %s", m[2])
		registered[strings.ToUpper(m[1])+" "+base+m[3]] = true
	}
	require.Greater(t, len(registered), 10, "the registrations were found")

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(apiDoc, &doc))
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if method == "servers" || method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for r := range registered {
		require.True(t, documented[r], "route %s is not in api.json", r)
	}
	// Mounted beside the API by the library (triggerd.New), not by New.
	mounted := map[string]bool{"GET " + connector.OpenAPIPath: true, "GET /metrics": true}
	for d := range documented {
		require.True(t, registered[d] || mounted[d], "api.json documents %s, which is no route", d)
	}
}
