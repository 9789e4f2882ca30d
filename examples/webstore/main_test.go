package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/connector"
)

func nowForTest() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

// The command as a user runs it: --create-key prints a key for the file,
// the server started on that file accepts it, and Ctrl-C (the context
// ending) stops it cleanly.
func TestRunCreatesAKeyAndServes(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "store.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", dbPath, "--create-key", "acme"}, &out, io.Discard))
	key := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(key, triggerd.APIKeyPrefix), key)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--db", dbPath, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan())
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	require.True(t, ok, lines.Text())
	go func() { _, _ = io.Copy(io.Discard, pr) }() // the rest of the banner

	resp, _ := call(t, http.MethodGet, "http://"+addr+"/healthz", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list struct{ Orders []Order }
	callJSON(t, http.MethodGet, "http://"+addr+"/v1/orders", key, nil, http.StatusOK, &list)
	require.Empty(t, list.Orders)

	cancel()
	require.NoError(t, <-done)
}

func TestRunExportsTheConnector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "connector")
	var stdout bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", filepath.Join(dir, "store.db"),
		"--public-url", "https://shop.example.com", "--export-connector", out}, &stdout, io.Discard))
	require.Contains(t, stdout.String(), filepath.Join(out, connector.DefinitionFile))
	def, err := os.ReadFile(filepath.Join(out, connector.DefinitionFile))
	require.NoError(t, err)
	require.Contains(t, string(def), `"host": "shop.example.com"`)
	require.Contains(t, string(def), `"operationId": "GetOrder"`)
	_, err = os.Stat(filepath.Join(out, connector.PropertiesFile))
	require.NoError(t, err)
}

func TestRunRefusesWhatItCannotDo(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"--db", "postgres://shop@127.0.0.1:1/shop?connect_timeout=5"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "open database")

	err = run(context.Background(), []string{"--nope"}, io.Discard, io.Discard)
	var ue usageError
	require.ErrorAs(t, err, &ue)

	err = run(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "x.db"), "--public-url", "ftp://x"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "public URL")
}
