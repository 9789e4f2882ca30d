package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// flowDefinition is the smallest webhook trigger: one registration
// operation with its callback property and notification schema.
const flowDefinition = `{
  "swagger": "2.0", "info": {"title": "Tiny", "version": "1.0"},
  "host": "HOST", "basePath": "/", "schemes": ["http"],
  "paths": {"/hooks": {
    "x-ms-notification-content": {"schema": {"type": "object"}},
    "post": {"operationId": "OnThing", "summary": "When a thing happens", "x-ms-trigger": "single",
      "parameters": [{"name": "body", "in": "body", "required": true, "schema": {"type": "object", "required": ["url"],
        "properties": {"url": {"type": "string", "x-ms-notification-url": true, "x-ms-visibility": "internal"}}}}],
      "responses": {"201": {"description": "Created"}}}}}
}`

// exitOf returns the exit status main would use for err.
func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ec exitCoder
	require.True(t, errors.As(err, &ec), "%v", err)
	return ec.ExitCode()
}

// The command exits 2 when flow cannot run and 1 when the publisher broke
// the contract; --lifecycle is parsed into the config.
func TestFlowExitCodes(t *testing.T) {
	t.Parallel()
	_, err := runCLI(t, "flow", "--connector", filepath.Join(t.TempDir(), "missing.json"), "--trigger", "OnThing")
	require.Equal(t, 2, exitOf(t, err))
	require.ErrorContains(t, err, "read connector definition")

	_, err = runCLI(t, "flow", "--connector", "x.json", "--trigger", "OnThing", "--lifecycle", "save,reboot")
	require.Equal(t, 2, exitOf(t, err))
	require.ErrorContains(t, err, `"reboot"`)

	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(refused.Close)
	def := filepath.Join(t.TempDir(), "apiDefinition.swagger.json")
	require.NoError(t, os.WriteFile(def, []byte(strings.Replace(flowDefinition, "HOST", strings.TrimPrefix(refused.URL, "http://"), 1)), 0o600))
	_, err = runCLI(t, "flow", "--connector", def, "--trigger", "OnThing", "--timeout", "5s", "--format", "json")
	require.Equal(t, 1, exitOf(t, err))
	require.ErrorContains(t, err, "1 error(s)")
}

func TestFlowConfig(t *testing.T) {
	t.Parallel()
	c := &flowCmd{Connector: "d.json", Trigger: "T", Lifecycle: "platform", Param: []string{"a=1"},
		Header: []string{"X-A: b"}, CallbackStatus: 429, FaultCount: 2, EmitURL: "http://127.0.0.1:1/emit", Format: "json"}
	cfg, err := c.config()
	require.NoError(t, err)
	require.Equal(t, flow.PlatformLifecycle, cfg.Lifecycle)
	require.Equal(t, 429, cfg.CallbackStatus)
	require.Equal(t, 2, cfg.FaultCount)
	require.Equal(t, "http://127.0.0.1:1/emit", cfg.EmitURL)
	require.Equal(t, "b", cfg.Header.Get("X-A"))
	require.Equal(t, map[string]string{"a": "1"}, cfg.Params)
}
