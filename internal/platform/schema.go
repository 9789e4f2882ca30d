package platform

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// NewCompiler returns a JSON Schema compiler set up as the platform reads
// schemas: "pattern" is an ECMAScript regular expression (the dialect JSON
// Schema specifies, and the one the designer and Logic Apps use), not Go's
// RE2, so lookaheads like ^(?!X-)[A-Z]+$ compile; Swagger 2.0's formats are
// known (SwaggerFormats); and no schema is ever fetched from a file or the
// network, so a $ref can only name a resource added to the compiler.
//
// Formats are not asserted; CompileSchema asserts them for event data.
func NewCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(compileECMAScript)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	for _, f := range swaggerFormats {
		c.RegisterFormat(f)
	}
	return c
}

// CompileSchema compiles a Swagger 2.0 schema (JSON Schema draft-04 unless
// doc says otherwise) that event data or a payload is validated against,
// under the resource name url. doc is the decoded schema; decode it with
// [jsonschema.UnmarshalJSON] (or encoding/json with UseNumber) so numbers
// keep their precision.
//
// Formats are asserted: an int32 the connector promises must fit, because a
// flow's expressions overflow otherwise. Swagger 2.0 allows any format
// string (https://swagger.io/specification/v2/#data-types) and certified
// connectors ship many ("guid", "decimal", "enum"), so an unknown format is
// accepted and ignored, as the platform does.
func CompileSchema(url string, doc any) (*jsonschema.Schema, error) {
	c := NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema %s: %w", url, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", url, err)
	}
	return sch, nil
}

// swaggerFormats are the formats Swagger 2.0 adds to JSON Schema
// (https://swagger.io/specification/v2/#data-types). The integer ones are
// range-checked; float and double accept every number JSON can carry; byte
// is base64 and binary and password are any string: triggerd does not
// second-guess what the backend sends in them. (date, date-time, email,
// uri and uuid are the library's own, and checked.)
var swaggerFormats = []*jsonschema.Format{
	{Name: "int32", Validate: intRange(math.MinInt32, math.MaxInt32)},
	{Name: "int64", Validate: intRange(math.MinInt64, math.MaxInt64)},
	{Name: "float", Validate: anyValue},
	{Name: "double", Validate: anyValue},
	{Name: "byte", Validate: anyValue},
	{Name: "binary", Validate: anyValue},
	{Name: "password", Validate: anyValue},
}

func anyValue(any) error { return nil }

func intRange(lo, hi float64) func(v any) error {
	return func(v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return nil // the format applies to numbers only
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f < lo || f > hi || f != math.Trunc(f) {
			return fmt.Errorf("%s is out of range", n)
		}
		return nil
	}
}

// matchTimeout bounds one pattern match.
const matchTimeout = time.Second

// ecmaRegexp adapts regexp2, in ECMAScript mode, to jsonschema.Regexp.
type ecmaRegexp regexp2.Regexp

// MatchString reports whether s matches. A match that fails (regexp2 stops
// at its timeout, which is unset, or on a runtime error) is no match.
func (re *ecmaRegexp) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

// String returns the pattern as written.
func (re *ecmaRegexp) String() string { return (*regexp2.Regexp)(re).String() }

func compileECMAScript(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	// Backtracking regexps can take exponential time; a pattern that cannot
	// decide within a second does not match, rather than stalling a publish.
	re.MatchTimeout = matchTimeout
	return (*ecmaRegexp)(re), nil
}
