package connector_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// TestGoldenDemoDefinition pins the demo catalog's definition, as
// `triggerd connector export` writes it by default, so that every change to
// the generated connector shows up in review. After an intended change, run
// go test ./connector -run Golden -update and review the diff.
func TestGoldenDemoDefinition(t *testing.T) {
	t.Parallel()
	files, err := connector.Generate(catalog.Demo(), connector.Options{PublicURL: connector.DefaultPublicURL})
	require.NoError(t, err)
	golden := filepath.Join("testdata", "demo."+connector.DefinitionFile)
	if *update {
		require.NoError(t, os.WriteFile(golden, files.Definition, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./connector -run Golden -update to create it")
	require.Equal(t, string(want), string(files.Definition), "the generated definition changed; if intended, rerun with -update and review the diff")
}
