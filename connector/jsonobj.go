package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// object is a JSON object that keeps its members in the order they were
// added. Paths, properties and responses are written in the catalog's order
// rather than sorted, so the generated definition reads like the catalog it
// came from and a diff between two exports shows only what changed.
type object []member

type member struct {
	key   string
	value any
}

// add appends a member. Keys are unique by construction in this package; a
// duplicate is a programming error, caught by the tests through kin-openapi
// and the JSON Schemas.
func (o *object) add(key string, value any) { *o = append(*o, member{key, value}) }

// MarshalJSON writes the members in order, without HTML escaping (see
// encodeJSON).
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := encodeJSON(m.key, "")
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := encodeJSON(m.value, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.key, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// encodeJSON marshals v without escaping <, > and & (descriptions are prose a
// maker reads, and "\u003c" in a reviewed file helps nobody), indented when
// indent is not empty, without a trailing newline.
func encodeJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// document renders one of the generated files: indented with two spaces and
// ending in a newline, as editors and paconn write JSON.
func document(v any) ([]byte, error) {
	b, err := encodeJSON(v, "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
