package triggerd_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
)

// A schema pattern is an ECMAScript regexp, as the platform reads it: the
// catalog accepts a lookahead that Go's RE2 refuses, and Publish enforces it
// on event data (publish validates each event with the trigger's schema).
func TestECMAScriptPatternEnforcedOnPublish(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse([]byte(`connector:
  title: Headers
  description: Events about custom headers, for the pattern test.
triggers:
  - name: header.added
    operationId: HeaderAdded
    summary: When a header is added
    description: This operation triggers when a header is added.
    schema:
      type: object
      required: [name]
      properties:
        name: {type: string, pattern: "^(?!X-)[A-Z-]+$"}
`), "headers.yaml")
	require.NoError(t, err, "the catalog must accept an ECMAScript-only pattern")

	b := setup(t, &setupOpts{cfg: triggerd.Config{Catalog: cat}})
	_, err = b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "header.added", Data: map[string]any{"name": "ACCEPT"}})
	require.NoError(t, err)

	_, err = b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "header.added", Data: map[string]any{"name": "X-TRACE"}})
	var ie *triggerd.InputError
	require.True(t, errors.As(err, &ie), "want an InputError, got %v", err)
	require.Equal(t, "data/name", ie.Path)
	require.True(t, ie.SchemaMismatch)
}
