package lint

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	schemakind "github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/triggerd/triggerd/internal/platform"
)

// schemaFiles are verbatim copies of Microsoft's JSON Schemas for connector
// files (microsoft/PowerPlatformConnectors@8bff86ea, schemas/; see
// https://github.com/microsoft/PowerPlatformConnectors/tree/dev/schemas). They are embedded so that lint needs neither
// the network nor the shared/ checkout. They are not strict JSON: they carry
// `//` comments, which stripComments removes before parsing.
//
//go:embed schema/apiDefinition.swagger.schema.json schema/paconn-apiProperties.schema.json
var schemaFiles embed.FS

const (
	// definitionSchemaURL is the id the definition schema declares (draft-04).
	definitionSchemaURL = "http://swagger.io/v2/schema.json"
	// propertiesSchemaURL is the id the apiProperties schema declares (draft-07).
	propertiesSchemaURL = "https://raw.githubusercontent.com/microsoft/PowerPlatformConnectors/master/schemas/paconn-apiProperties.schema.json"
)

// schemaPrinter renders the validator's messages; findings are in English.
var schemaPrinter = message.NewPrinter(language.English)

// compiledSchemas compiles both schemas once per process. Compiling the
// 72 KB definition schema takes milliseconds, so it is not worth doing at
// init for programs that import the package without linting.
var compiledSchemas = sync.OnceValues(func() (*schemaSet, error) {
	def, err := compileSchema("schema/apiDefinition.swagger.schema.json", definitionSchemaURL, patchDefinitionSchema)
	if err != nil {
		return nil, err
	}
	props, err := compileSchema("schema/paconn-apiProperties.schema.json", propertiesSchemaURL, patchPropertiesSchema)
	if err != nil {
		return nil, err
	}
	return &schemaSet{definition: def, properties: props}, nil
})

type schemaSet struct {
	definition, properties *jsonschema.Schema
}

func compileSchema(file, url string, patch func(map[string]any) error) (*jsonschema.Schema, error) {
	raw, err := schemaFiles.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("lint: read embedded %s: %w", file, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(stripComments(raw)))
	if err != nil {
		return nil, fmt.Errorf("lint: parse embedded %s: %w", file, err)
	}
	if patch != nil {
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("lint: embedded %s is not an object", file)
		}
		if err := patch(obj); err != nil {
			return nil, fmt.Errorf("lint: patch embedded %s: %w", file, err)
		}
	}
	// Microsoft's patterns are ECMAScript (".NET/JavaScript") regexps; the
	// definition schema's `^x-(?!ms-)` uses a lookahead Go's RE2 cannot
	// compile. The platform's compiler reads them so, and never loads a file
	// or the network: only the two embedded documents exist.
	c := platform.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("lint: add embedded %s: %w", file, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("lint: compile embedded %s: %w", file, err)
	}
	return sch, nil
}

// patchDefinitionSchema teaches the definition schema info.x-ms-keywords,
// search keywords for the connector: Microsoft documents it for connectors
// used as Copilot plugins, certified connectors ship it (BoldSign), and the
// schema predates it. Without this, SchemaPropertyNotAllowed would report a
// working connector.
func patchDefinitionSchema(doc map[string]any) error {
	defs, _ := doc["definitions"].(map[string]any)
	info, _ := defs["info"].(map[string]any)
	props, ok := info["properties"].(map[string]any)
	if !ok {
		return errors.New("definitions.info.properties not found")
	}
	props["x-ms-keywords"] = map[string]any{"type": []any{"string", "array"}}

	// Swagger 2.0 allows any format string ("the format property is an
	// open string-valued property", https://swagger.io/specification/v2/#data-types);
	// 37 certified connectors ship "guid", "decimal", "enum" and others, which
	// the schema's enum refuses.
	if _, ok := defs["format"]; !ok {
		return errors.New("definitions.format not found")
	}
	defs["format"] = map[string]any{"type": "string"}

	// The service reads x-ms-visibility and x-ms-api-annotation's status
	// without regard to case, and an empty visibility as none: certified
	// connectors ship "Advanced", "" and "production".
	vis, ok := defs["x-ms-visibility"].(map[string]any)
	if !ok {
		return errors.New("definitions.x-ms-visibility not found")
	}
	delete(vis, "enum")
	vis["pattern"] = "^(|[Ii]mportant|[Aa]dvanced|[Ii]nternal|IMPORTANT|ADVANCED|INTERNAL|[Nn]one)$"
	for name, d := range defs {
		if !strings.HasPrefix(name, "x-ms-api-annotation") {
			continue
		}
		dm, _ := d.(map[string]any)
		dprops, _ := dm["properties"].(map[string]any)
		if status, ok := dprops["status"].(map[string]any); ok {
			delete(status, "enum")
			status["pattern"] = "^([Pp]roduction|[Pp]review|PRODUCTION|PREVIEW)$"
		}
	}
	return nil
}

// patchPropertiesSchema teaches the apiProperties schema three things the
// platform accepts and real certified connectors use, but which the published
// schema (last changed before them) rejects — https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json:
//   - redirectMode "GlobalPerConnector" (35 real files; proposed upstream in
//     commit 80c7ac31 but not on dev);
//   - properties.connectionParameterSets (multi-auth, 10 real files);
//   - properties.scriptOperations (documented by paconn for script.csx).
//
// Without this, ApiPropertiesSchemaViolation would report working, certified
// connectors as broken.
func patchPropertiesSchema(doc map[string]any) error {
	defs, _ := doc["definitions"].(map[string]any)
	oauth, _ := defs["oAuthSettings"].(map[string]any)
	oprops, _ := oauth["properties"].(map[string]any)
	mode, _ := oprops["redirectMode"].(map[string]any)
	enum, ok := mode["enum"].([]any)
	if !ok {
		return errors.New("definitions.oAuthSettings.properties.redirectMode.enum not found")
	}
	mode["enum"] = append(enum, "GlobalPerConnector")

	rootProps, _ := doc["properties"].(map[string]any)
	props, _ := rootProps["properties"].(map[string]any)
	inner, ok := props["properties"].(map[string]any)
	if !ok {
		return errors.New("properties.properties.properties not found")
	}
	inner["connectionParameterSets"] = map[string]any{"type": "object"}

	// uiDefinition.constraints.required and .hidden are strings in the
	// schema ("true"), but the service reads JSON booleans alike:
	// 22 certified connectors write them as booleans and work.
	if err := patchConstraints(doc); err != nil {
		return err
	}
	inner["scriptOperations"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	return nil
}

// stripComments blanks `//` line comments and `/* */` block comments outside
// JSON strings, keeping every other byte (and newlines) in place.
func stripComments(src []byte) []byte {
	out := make([]byte, 0, len(src))
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '/' && i+1 < len(src) && src[i+1] == '/' {
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out = append(out, '\n')
			}
			continue
		}
		if c == '/' && i+1 < len(src) && src[i+1] == '*' {
			i += 2
			for i < len(src) && !(src[i] == '*' && i+1 < len(src) && src[i+1] == '/') {
				if src[i] == '\n' {
					out = append(out, '\n')
				}
				i++
			}
			i++ // skip the '/'
			continue
		}
		if c == '"' {
			inString = true
		}
		out = append(out, c)
	}
	return out
}

// schemaValidator is a compiled schema.
type schemaValidator = *jsonschema.Schema

// schemaViolation is one leaf error of a schema validation.
type schemaViolation struct {
	instance   []string // JSON Pointer tokens into the linted document
	message    string
	notAllowed []string // for additionalProperties: the members not allowed
	missing    []string // for required: the members missing
}

// validateSchema validates doc and flattens the validator's error tree into
// leaf violations, choosing one branch of each failed oneOf/anyOf (see
// leafSelector.best).
func validateSchema(sch *jsonschema.Schema, doc any) []schemaViolation {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []schemaViolation{{message: err.Error()}}
	}
	var out []schemaViolation
	collectViolations(ve, &out)
	// One message per location and text: branches of allOf can repeat.
	slices.SortStableFunc(out, func(a, b schemaViolation) int {
		return cmp.Or(slices.Compare(a.instance, b.instance), strings.Compare(a.message, b.message))
	})
	return slices.CompactFunc(out, func(a, b schemaViolation) bool {
		return a.message == b.message && slices.Equal(a.instance, b.instance)
	})
}

func collectViolations(ve *jsonschema.ValidationError, out *[]schemaViolation) {
	sel := leafSelector{}
	for _, leaf := range sel.leaves(ve) {
		v := schemaViolation{
			instance: leaf.InstanceLocation,
			message:  leaf.ErrorKind.LocalizedString(schemaPrinter),
		}
		switch k := leaf.ErrorKind.(type) {
		case *schemakind.AdditionalProperties:
			v.notAllowed = k.Properties
		case *schemakind.Required:
			v.missing = k.Missing
		}
		*out = append(*out, v)
	}
}

// leafSelector returns the leaf errors of an error tree, taking one branch
// of each failed oneOf/anyOf (see best). It remembers each subtree's answer:
// choosing a branch needs the leaves of every branch, which would otherwise
// be exponential in the nesting of oneOfs.
type leafSelector map[*jsonschema.ValidationError][]*jsonschema.ValidationError

func (sel leafSelector) leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	if out, ok := sel[ve]; ok {
		return out
	}
	var out []*jsonschema.ValidationError
	switch ve.ErrorKind.(type) {
	case *schemakind.OneOf, *schemakind.AnyOf:
		out = sel.leaves(sel.best(ve))
	default:
		for _, c := range ve.Causes {
			out = append(out, sel.leaves(c)...)
		}
	}
	sel[ve] = out
	return out
}

// discriminators are the members whose value (or absence) tells which
// alternative of a oneOf an object is meant to be: a parameter's "in", a
// security scheme's "type" and "flow", a policy's "templateId", an OAuth
// setting's "identityProvider", a reference's "$ref".
var discriminators = map[string]bool{"$ref": true, "in": true, "type": true, "flow": true, "templateId": true, "identityProvider": true}

// best picks the alternative of a failed oneOf/anyOf that the author
// most likely meant, so that a wrong path parameter reports what is wrong
// with it rather than why it is not each of the five parameter kinds, nor a
// $ref. A branch is unlikely when it fails on a discriminator (the wrong
// "in", no "$ref"), less so when it only finds members missing or extra, and
// likely when it fails deeper inside the value.
func (sel leafSelector) best(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	at := len(ve.InstanceLocation)
	best, bestPenalty, bestDepth, bestCount := ve.Causes[0], -1, 0, 0
	for _, b := range ve.Causes {
		leaves := sel.leaves(b)
		penalty, depth := 0, 0
		for _, leaf := range leaves {
			penalty += branchPenalty(leaf, at)
			depth = max(depth, len(leaf.InstanceLocation))
		}
		better := bestPenalty < 0 || penalty < bestPenalty ||
			penalty == bestPenalty && (depth > bestDepth || depth == bestDepth && len(leaves) < bestCount)
		if better {
			best, bestPenalty, bestDepth, bestCount = b, penalty, depth, len(leaves)
		}
	}
	return best
}

// branchPenalty weighs how strongly a leaf error says "this is not the
// alternative the author meant" for a oneOf at instance depth at.
func branchPenalty(leaf *jsonschema.ValidationError, at int) int {
	loc := leaf.InstanceLocation
	switch k := leaf.ErrorKind.(type) {
	case *schemakind.Type, *schemakind.FalseSchema:
		if len(loc) == at {
			return 10
		}
	case *schemakind.Enum, *schemakind.Const:
		if len(loc) == at+1 && discriminators[loc[at]] {
			return 10
		}
	case *schemakind.Required:
		if len(loc) == at {
			for _, m := range k.Missing {
				if discriminators[m] {
					return 10
				}
			}
			return 1
		}
	case *schemakind.AdditionalProperties:
		if len(loc) == at {
			return 1
		}
	}
	return 0
}

// pointerToPath renders JSON Pointer tokens as a JSONPath by walking the
// linted tree (which knows whether a token is a key or an index).
func pointerToPath(root *node, tokens []string) string {
	n, done := root.at(tokens)
	p := n.path()
	// Validator locations always exist in the instance; this only guards
	// against a token the tree could not follow.
	for _, t := range tokens[done:] {
		p = childPath(p, t)
	}
	return p
}

// patchConstraints lets constraints.required and constraints.hidden be
// booleans as well as the strings the schema asks for, wherever a
// "constraints" object with those members is defined.
func patchConstraints(doc map[string]any) error {
	found := 0
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		m, ok := v.(map[string]any)
		if !ok || depth > 64 {
			if list, ok := v.([]any); ok {
				for _, e := range list {
					walk(e, depth+1)
				}
			}
			return
		}
		if cons, ok := m["constraints"].(map[string]any); ok {
			if props, ok := cons["properties"].(map[string]any); ok {
				for _, name := range []string{"required", "hidden"} {
					if p, ok := props[name].(map[string]any); ok && p["type"] == "string" {
						p["type"] = []any{"string", "boolean"}
						found++
					}
				}
			}
		}
		for _, e := range m {
			walk(e, depth+1)
		}
	}
	walk(doc, 0)
	if found == 0 {
		return errors.New("no constraints.required or constraints.hidden found")
	}
	return nil
}
