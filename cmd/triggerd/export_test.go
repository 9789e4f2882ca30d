package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

// runCLI parses args as the triggerd command line and runs the command,
// returning what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var c cli
	var out bytes.Buffer
	parser, err := kong.New(&c, kong.Name("triggerd"), kong.Writers(&out, &out),
		kong.Exit(func(int) { t.Fatalf("kong exited: %s", out.String()) }), defaultVars())
	require.NoError(t, err)
	ctx, err := parser.Parse(args)
	if err != nil {
		return out.String(), err
	}
	err = ctx.Run()
	return out.String(), err
}

func TestConnectorExportDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	t.Setenv("TRIGGERD_CATALOG", "")
	t.Setenv("TRIGGERD_PUBLIC_URL", "")
	out, err := runCLI(t, "connector", "export", "--out", dir)
	require.NoError(t, err)
	require.Contains(t, out, filepath.Join(dir, connector.DefinitionFile))

	want, err := connector.Generate(catalog.Demo(), connector.Options{PublicURL: connector.DefaultPublicURL})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, connector.DefinitionFile))
	require.NoError(t, err)
	require.Equal(t, string(want.Definition), string(got), "the flag's default must be connector.DefaultPublicURL")
	for _, name := range []string{connector.PropertiesFile, connector.SettingsFile} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
	}
}

func TestConnectorExportFlagsAndEnv(t *testing.T) {
	catFile := filepath.Join("..", "..", "connector", "testdata", "batch.yaml")
	cat, err := catalog.Load(catFile)
	require.NoError(t, err)

	t.Setenv("TRIGGERD_CATALOG", catFile)
	t.Setenv("TRIGGERD_PUBLIC_URL", "https://api.example.com/store")
	dir := t.TempDir()
	_, err = runCLI(t, "connector", "export", "--out", dir)
	require.NoError(t, err)
	want, err := connector.Generate(cat, connector.Options{PublicURL: "https://api.example.com/store"})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, connector.DefinitionFile))
	require.NoError(t, err)
	require.Equal(t, string(want.Definition), string(got))

	// Flags win over the environment.
	dir = t.TempDir()
	_, err = runCLI(t, "connector", "export", "--out", dir, "--public-url", "https://other.example.com")
	require.NoError(t, err)
	got, err = os.ReadFile(filepath.Join(dir, connector.DefinitionFile))
	require.NoError(t, err)
	require.Contains(t, string(got), `"host": "other.example.com"`)
}

func TestConnectorExportErrors(t *testing.T) {
	t.Setenv("TRIGGERD_CATALOG", "")
	t.Setenv("TRIGGERD_PUBLIC_URL", "")
	_, err := runCLI(t, "connector", "export", "--out", t.TempDir(), "--public-url", "ftp://example.com")
	require.ErrorContains(t, err, "https://")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("connector: {title: x}\n"), 0o644))
	_, err = runCLI(t, "connector", "export", "--out", t.TempDir(), "--catalog", bad)
	require.ErrorContains(t, err, "connector export: ")
	require.ErrorContains(t, err, "connector.description")

	_, err = runCLI(t, "connector", "export", "--out", t.TempDir(), "--catalog", filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "read catalog")

	_, err = runCLI(t, "connector", "export", "--public-url", "https://example.com")
	require.ErrorContains(t, err, "--out")
}
