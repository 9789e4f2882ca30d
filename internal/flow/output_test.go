package flow_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// --format json prints one object per line; a run line carries the run
// number, received time, body, headers and validation result. The
// definition is fetched over HTTP, as from triggerd serve's /v1/openapi.json.
func TestJSONLinesAndDefinitionURL(t *testing.T) {
	t.Parallel()
	def, err := os.ReadFile(connector(t, "Alvao"))
	require.NoError(t, err)
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(def)
	})
	mux.HandleFunc("POST /webhooks/objectpropertychanged", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/webhooks/9"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "webhookUrl"), `{"objectId":"x"}`)
	})
	mux.HandleFunc("DELETE /webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)

	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: b.URL + "/v1/openapi.json",
		Trigger:   "ObjectPropertyChanged",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Basic eDp5"}},
		Params:    map[string]string{"propertyKindId": "3"},
		Runs:      1,
		Format:    flow.FormatJSON,
		Output:    &out,
	})
	n.wait(t)
	require.True(t, rep.Failed())

	events := map[string][]map[string]any{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		events[m["event"].(string)] = append(events[m["event"].(string)], m)
	}
	require.Len(t, events["run"], 1)
	r := events["run"][0]
	require.EqualValues(t, 1, r["run"])
	require.NotEmpty(t, r["received"])
	require.Equal(t, map[string]any{"objectId": "x"}, r["body"])
	require.Equal(t, "application/json", r["headers"].(map[string]any)["Content-Type"])
	require.Equal(t, false, r["valid"])
	require.Equal(t, "/objectId", r["errors"].([]any)[0].(map[string]any)["path"])
	require.Len(t, events["summary"], 1)
	require.Equal(t, false, events["summary"][0]["ok"])
	require.NotEmpty(t, events["trigger"])
	var failures []string
	for _, d := range events["finding"] {
		if d["severity"] == "error" {
			failures = append(failures, d["code"].(string))
		}
	}
	require.Equal(t, []string{"schema-mismatch"}, failures)
}

// The text output shows a maker what happened, run by run.
func TestTextOutput(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/objectcreated", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/webhooks/1"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "webhookUrl"), `{"objectId":12}`)
	})
	mux.HandleFunc("DELETE /webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)
	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "ObjectCreated",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Basic eDp5"}},
		Runs:      1,
		Output:    &out,
	})
	n.wait(t)
	require.False(t, rep.Failed())
	text := out.String()
	for _, want := range []string{
		`ObjectCreated "When an object is created"`,
		"→ POST " + b.URL + "/webhooks/objectcreated",
		"← 201 Created",
		"run 1 ·",
		`"objectId": 12`,
		"✓ matches the schema",
		"→ DELETE " + b.URL + "/webhooks/1",
		"← 204 No Content",
		"OK: 1 run(s), 0 error(s)",
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, `\u0026`, "the callback URL is printed and sent with a plain &")
	require.True(t, strings.HasSuffix(text, "\n"))
}
