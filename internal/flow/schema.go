package flow

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/triggerd/triggerd/internal/platform"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// validator checks payloads against one schema of the definition. A Swagger
// 2.0 schema is a subset of JSON Schema draft-04, so the draft-04 compiler
// of santhosh-tekuri/jsonschema does the work; only the #/definitions the
// schema reaches are copied beside it so that "$ref": "#/definitions/X"
// resolves and an unrelated broken definition cannot stop validation.
type validator struct {
	schema *jsonschema.Schema
	// err says why the schema could not be compiled; validation is then
	// skipped and reported once.
	err error
}

var errorPrinter = message.NewPrinter(language.English)

// newValidator compiles raw (a schema from the raw definition); nil raw
// means "no schema declared", which accepts anything.
func (d *definition) newValidator(raw any) *validator {
	if raw == nil {
		return &validator{}
	}
	root, ok := sanitize(deepCopy(raw)).(map[string]any)
	if !ok {
		return &validator{err: errors.New("the schema is not a JSON object")}
	}
	defs := map[string]any{}
	d.collectDefinitions(raw, defs, 0)
	if len(defs) > 0 {
		for n, v := range defs {
			defs[n] = sanitize(deepCopy(v))
		}
		root["definitions"] = defs
	}
	// The platform's rules (ECMAScript patterns, Swagger formats), the same
	// compiler the catalog and the linter use.
	sch, err := platform.CompileSchema("triggerd:///flow/schema.json", root)
	if err != nil {
		return &validator{err: err}
	}
	return &validator{schema: sch}
}

// validate returns every mismatch, leaf by leaf, each with its path.
func (v *validator) validate(inst any) []SchemaError {
	if v == nil || v.schema == nil {
		return nil
	}
	err := v.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []SchemaError{{Path: "/", Message: err.Error()}}
	}
	var out []SchemaError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, SchemaError{Path: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(errorPrinter)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b SchemaError) int { return strings.Compare(a.Path, b.Path) })
	return slices.Compact(out)
}

// pointer renders an instance location as a JSON Pointer (RFC 6901).
func pointer(segs []string) string {
	if len(segs) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// collectDefinitions gathers the definitions a schema reaches, transitively.
func (d *definition) collectDefinitions(v any, into map[string]any, depth int) {
	if depth > 4*maxDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
				name = unescapePointer(strings.SplitN(name, "/", 2)[0])
				if _, seen := into[name]; !seen {
					if def, ok := rawMap(d.raw, "definitions")[name]; ok {
						into[name] = def
						d.collectDefinitions(def, into, depth+1)
					}
				}
			}
		}
		for _, c := range x {
			d.collectDefinitions(c, into, depth+1)
		}
	case []any:
		for _, c := range x {
			d.collectDefinitions(c, into, depth+1)
		}
	}
}

// sanitize removes what Swagger writers put in schemas that draft-04's
// meta-schema rejects but Power Platform tolerates: empty "required" and
// "enum" arrays and the Swagger-only type "file". It walks only schema
// positions, so a property that happens to be named "required" survives.
func sanitize(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if r, ok := m["required"].([]any); ok && len(r) == 0 {
		delete(m, "required")
	}
	if _, ok := m["required"].(bool); ok {
		delete(m, "required")
	}
	if e, ok := m["enum"].([]any); ok && len(e) == 0 {
		delete(m, "enum")
	}
	if t, ok := m["type"].(string); ok && t == "file" {
		delete(m, "type")
	}
	for _, k := range []string{"properties", "definitions", "patternProperties"} {
		if props, ok := m[k].(map[string]any); ok {
			for n, p := range props {
				props[n] = sanitize(p)
			}
		}
	}
	for _, k := range []string{"additionalProperties", "items", "not"} {
		switch x := m[k].(type) {
		case map[string]any:
			m[k] = sanitize(x)
		case []any:
			for i := range x {
				x[i] = sanitize(x[i])
			}
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := m[k].([]any); ok {
			for i := range list {
				list[i] = sanitize(list[i])
			}
		}
	}
	return m
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// decodeJSON decodes a payload keeping numbers exact, as the validator needs.
func decodeJSON(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}
