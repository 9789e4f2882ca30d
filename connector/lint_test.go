package connector_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/connector/lint"
)

// The generated files pass triggerd's own linter with nothing to report at
// error or warning level: the generator and the linter read the same
// platform contract, so any disagreement is a bug in one of them.
func TestExportPassesLint(t *testing.T) {
	t.Parallel()
	for _, tc := range exportCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := generate(t, tc.cat, tc.opts)
			res, err := lint.Lint(files.Definition, lint.Options{Properties: files.Properties})
			require.NoError(t, err)
			for _, f := range res.Findings {
				t.Logf("%s", f)
				require.NotEqual(t, lint.SeverityError, f.Severity, "%s", f)
				require.NotEqual(t, lint.SeverityWarning, f.Severity, "%s", f)
			}
		})
	}
}

// The check above must be able to fail: without its DELETE operation the
// same export gets a warning (webhooks created and never deleted).
func TestLintSeesABrokenExport(t *testing.T) {
	t.Parallel()
	files := generate(t, catalog.Demo(), connector.Options{})
	var doc map[string]any
	require.NoError(t, json.Unmarshal(files.Definition, &doc))
	delete(doc["paths"].(map[string]any), "/webhooks/{id}")
	broken, err := json.Marshal(doc)
	require.NoError(t, err)
	res, err := lint.Lint(broken, lint.Options{Properties: files.Properties})
	require.NoError(t, err)
	var rules []string
	for _, f := range res.Findings {
		if f.Severity != lint.SeverityInfo {
			rules = append(rules, f.Rule)
		}
	}
	require.Contains(t, rules, "WebhookTriggerMissingDeleteOperation", "lint found nothing wrong with a connector that has no DELETE operation")
}
