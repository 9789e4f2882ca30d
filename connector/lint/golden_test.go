package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the current findings")

// connectorsDir holds the 8 real connector definitions of
// https://github.com/microsoft/PowerPlatformConnectors/tree/dev/certified-connectors It lives beside the repository, not in it:
// <repo root>/../shared.
const connectorsDir = "../../../shared/powerplatform/connectors"

// realConnectors returns the definitions in connectorsDir, skipping the
// test when shared/ is not checked out beside the repository.
func realConnectors(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(connectorsDir, "*-apiDefinition.swagger.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skipf("no connector definitions in %s: check out shared/ beside the repository", connectorsDir)
	}
	return files
}

// connectorName is the name of a connector file without its suffix.
func connectorName(file string) string {
	return strings.TrimSuffix(filepath.Base(file), "-apiDefinition.swagger.json")
}

// propertiesFor returns the connector's apiProperties.json, or nil.
func propertiesFor(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(connectorsDir, connectorName(file)+"-apiProperties.json"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return data
}

// Each real connector's findings are pinned in testdata/golden/<name>.jsonl
// (one finding per line). testdata/golden/README.md records, per connector,
// that each pinned finding was checked against the definition; a change here
// needs the same check. Regenerate with: go test ./connector/lint -run
// TestRealConnectors -update
func TestRealConnectors(t *testing.T) {
	t.Parallel()
	files := realConnectors(t)
	require.Len(t, files, 8, "https://github.com/microsoft/PowerPlatformConnectors/tree/dev/certified-connectors describes 8 connectors")
	for _, file := range files {
		name := connectorName(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			def, err := os.ReadFile(file)
			require.NoError(t, err)
			res, err := Lint(def, Options{Properties: propertiesFor(t, file)})
			require.NoError(t, err)
			for _, f := range res.Findings {
				require.NotEqual(t, SeverityError, f.Severity,
					"certified connectors pass the validator; an error here is a false positive to fix in the rule: %s", f)
			}

			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			for _, f := range res.Findings {
				require.NoError(t, enc.Encode(f))
			}
			golden := filepath.Join("testdata", "golden", name+".jsonl")
			if *update {
				require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), got.String(), "findings changed; check each against the definition, then run with -update")
		})
	}
}

// The apiProperties.json among the real connectors (Feathery's) is valid
// against Microsoft's schema on its own too.
func TestRealProperties(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(connectorsDir, "*-apiProperties.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skipf("no apiProperties.json in %s: check out shared/ beside the repository", connectorsDir)
	}
	schemas, err := compiledSchemas()
	require.NoError(t, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		root, err := parseTree(data, docProperties)
		require.NoError(t, err)
		require.Empty(t, validateSchema(schemas.properties, root.toAny()), file)
	}
}

func BenchmarkLintActsoft(b *testing.B) {
	def, err := os.ReadFile(filepath.Join(connectorsDir, "Actsoft-apiDefinition.swagger.json"))
	if os.IsNotExist(err) {
		b.Skip("shared/ is not checked out beside the repository")
	}
	require.NoError(b, err)
	b.SetBytes(int64(len(def)))
	for b.Loop() {
		if _, err := Lint(def, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
