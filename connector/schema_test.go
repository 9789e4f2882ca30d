package connector_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/platform"
)

// sharedDir is <repo root>/../shared, where CI and developers keep the
// reference material beside the repository. Tests that need it skip when it
// is missing.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "go.mod not found above the test directory")
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "powerplatform", "schemas")); err != nil {
		t.Skipf("reference material not found at %s (it sits beside the repository): %v", shared, err)
	}
	return shared
}

// Microsoft's schemas, compiled once per test binary.
type msSchemas struct {
	definition, properties, settings *jsonschema.Schema
}

var (
	schemasOnce sync.Once
	schemas     msSchemas
	schemasErr  error
)

func loadSchemas(t *testing.T) msSchemas {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "powerplatform", "schemas")
	schemasOnce.Do(func() {
		schemas, schemasErr = compileSchemas(dir)
	})
	require.NoError(t, schemasErr)
	return schemas
}

func compileSchemas(dir string) (msSchemas, error) {
	// The schemas' patterns use lookaheads such as ^x-(?!ms-), which Go's
	// regexp lacks: the platform's compiler reads them as ECMAScript.
	c := platform.NewCompiler()
	c.AssertFormat()
	var out msSchemas
	for _, s := range []struct {
		file  string
		draft *jsonschema.Draft
		dst   **jsonschema.Schema
	}{
		{"apiDefinition.swagger.schema.json", jsonschema.Draft4, &out.definition},
		{"paconn-apiProperties.schema.json", jsonschema.Draft7, &out.properties},
		{"paconn-settings.schema.json", jsonschema.Draft7, &out.settings},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, s.file))
		if err != nil {
			return out, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(stripLineComments(raw)))
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.file, err)
		}
		loc := "file:///schemas/" + s.file
		c.DefaultDraft(s.draft)
		if err := c.AddResource(loc, doc); err != nil {
			return out, fmt.Errorf("%s: %w", s.file, err)
		}
		if *s.dst, err = c.Compile(loc); err != nil {
			return out, fmt.Errorf("%s: %w", s.file, err)
		}
	}
	return out, nil
}

// stripLineComments removes // comments outside JSON strings: Microsoft's
// schema files carry a few, and "http://…" inside strings must survive.
func stripLineComments(src []byte) []byte {
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		ch := src[i]
		if inString {
			out.WriteByte(ch)
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
			continue
		}
		if ch == '/' && i+1 < len(src) && src[i+1] == '/' {
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out.WriteByte('\n')
			}
			continue
		}
		if ch == '"' {
			inString = true
		}
		out.WriteByte(ch)
	}
	return out.Bytes()
}

func TestStripLineComments(t *testing.T) {
	t.Parallel()
	in := []byte("{\n  \"a\": \"http://x/\\\"//y\", // note\n  \"b\": 1 // end\n}\n")
	require.JSONEq(t, `{"a": "http://x/\"//y", "b": 1}`, string(stripLineComments(in)))
}

// requireValid fails with every schema violation of doc listed.
func requireValid(t *testing.T, s *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err, name)
	if err := s.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			t.Fatalf("%s does not validate against Microsoft's schema:\n%#v", name, ve)
		}
		t.Fatalf("%s: %v", name, err)
	}
}
