package platform_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/platform"
)

func compile(t *testing.T, schema string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	require.NoError(t, err)
	sch, err := platform.CompileSchema("triggerd:///test.json", doc)
	require.NoError(t, err)
	return sch
}

func valid(t *testing.T, sch *jsonschema.Schema, data string) bool {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(data)))
	require.NoError(t, err)
	return sch.Validate(inst) == nil
}

func TestCompileSchemaECMAScriptPattern(t *testing.T) {
	t.Parallel()
	// A lookahead: Go's RE2 refuses it, ECMAScript (and the platform) does not.
	sch := compile(t, `{"type":"string","pattern":"^(?!X-)[A-Z]+$"}`)
	require.True(t, valid(t, sch, `"ABC"`))
	require.False(t, valid(t, sch, `"X-ABC"`))
	require.False(t, valid(t, sch, `"abc"`))
}

func TestCompileSchemaFormats(t *testing.T) {
	t.Parallel()
	sch := compile(t, `{"type":"object","properties":{
		"small":{"type":"integer","format":"int32"},
		"big":{"type":"integer","format":"int64"},
		"when":{"type":"string","format":"date-time"},
		"id":{"type":"string","format":"guid"},
		"amount":{"type":"number","format":"decimal"},
		"f":{"type":"number","format":"double"}}}`)
	require.True(t, valid(t, sch, `{"small":2147483647,"big":9007199254740993,"when":"2026-01-02T03:04:05Z","id":"not-a-guid","amount":1.5,"f":1e300}`))
	require.False(t, valid(t, sch, `{"small":2147483648}`), "int32 overflow")
	require.False(t, valid(t, sch, `{"small":1.5}`), "int32 fraction")
	require.False(t, valid(t, sch, `{"when":"yesterday"}`), "date-time")
}

func TestCompileSchemaNeverLoads(t *testing.T) {
	t.Parallel()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"$ref":"file:///etc/passwd"}`))
	require.NoError(t, err)
	_, err = platform.CompileSchema("triggerd:///ref.json", doc)
	require.Error(t, err)
}

func TestSummaryProblem(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"When an order is created":    "",
		"When an order (new) arrives": "",
		"When an order is 100% paid?": "RestrictedCharactersInSummary",
		"When a/b":                    "RestrictedCharactersInSummary",
		"When [x]":                    "RestrictedCharactersInSummary",
		strings.Repeat("a", 81):       "OperationSummaryTooLong",
		strings.Repeat("é", 80):       "",
	} {
		got := platform.SummaryProblem(s, platform.SummaryMaxLen)
		if want == "" {
			require.Empty(t, got, s)
		} else {
			require.Contains(t, got, want, s)
		}
	}
}

func TestOperationIDs(t *testing.T) {
	t.Parallel()
	require.Empty(t, platform.OperationIDProblem("OrderCreated"))
	require.NotEmpty(t, platform.OperationIDProblem("orderCreated"))
	require.NotEmpty(t, platform.OperationIDProblem("Order_Created"))
	require.Contains(t, platform.OperationIDProblem("A"+strings.Repeat("b", platform.OperationIDMaxLen)), "OperationIdTooLong")
	require.Equal(t, "Client_Get", platform.SanitizeOperationID("Client_Get"))
	require.Equal(t, "GetOrder", platform.SanitizeOperationID("Get-Order."))
}

func TestHostPathCategoryColor(t *testing.T) {
	t.Parallel()
	require.True(t, platform.ValidHost("api.example.com:8443"))
	for _, h := range []string{"https://api.example.com", "api.example.com/v1", "{host}", "a b", ""} {
		require.False(t, platform.ValidHost(h), h)
	}
	for p, rule := range map[string]string{
		"/orders/{id}": "", "orders": "OperationPathMustStartWithSlash", "/a?b=1": "OperationPathMayNotContainQueryOrFragment",
		"/a/{": "OperationPathTemplateNotValid", "/a/{}": "OperationPathTemplateNotValid", "/a/{b/c}": "OperationPathTemplateNotValid",
	} {
		got, _ := platform.PathProblem(p)
		require.Equal(t, rule, got, p)
	}
	require.True(t, platform.ValidCategory("Productivity"))
	require.False(t, platform.ValidCategory("productivity"))
	require.Len(t, platform.Categories(), 19)
	require.Empty(t, platform.BrandColorProblem("#0b6a0b"))
	require.NotEmpty(t, platform.BrandColorProblem("#FFFFFF"))
	require.NotEmpty(t, platform.BrandColorProblem("blue"))
}
