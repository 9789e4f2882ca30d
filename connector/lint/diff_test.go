package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// reformat re-encodes a definition with other indentation and sorted keys:
// the same definition, written differently.
func reformat(t testing.TB, data []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(trimBOM(data)))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	out, err := json.MarshalIndent(v, "", "\t")
	require.NoError(t, err)
	return out
}

// No definition of the corpus has a breaking change against itself or
// against a reformatted copy.
func TestDiffCorpusAgainstItself(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("diffs 417 connectors")
	}
	dirs, err := filepath.Glob(filepath.Join(corpusDir, "certified", "*", "apiDefinition.swagger.json"))
	require.NoError(t, err)
	if len(dirs) == 0 {
		t.Skipf("corpus not found at %s", corpusDir)
	}
	for i, file := range dirs {
		if raceEnabled && i%8 != 0 {
			continue // every eighth: the race detector finds races on a few as well as on all
		}
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		res, err := Diff(data, data)
		if err != nil {
			continue // not JSON: nothing to diff
		}
		require.Empty(t, res.Findings, "%s against itself", file)
		res, err = Diff(data, reformat(t, data))
		require.NoError(t, err)
		require.Empty(t, res.Findings, "%s against a reformatted copy", file)
	}
}

// diffCase changes the template into its next version, which must have
// exactly one breaking change.
type diffCase struct {
	rule   string
	doc    Document // where the finding is
	path   string
	change func(t *testing.T, d doc)
}

func TestDiffFindsEachBreakingChange(t *testing.T) {
	t.Parallel()
	cases := []diffCase{
		{ruleOperationRemoved, DocumentPrevious, jpPost + `.operationId`, func(t *testing.T, d doc) {
			delete(obj(t, d, "paths"), triggerPath)
		}},
		{ruleOperationIDChanged, DocumentDefinition, jpPost + `.operationId`, func(t *testing.T, d doc) {
			post(t, d)["operationId"] = "WhenOrderCreated"
		}},
		{ruleTriggerKindChanged, DocumentDefinition, jpPost, func(t *testing.T, d doc) {
			delete(post(t, d), "x-ms-trigger")
			delete(post(t, d), "x-ms-trigger-hint")
		}},
		{ruleTriggerCardinalityChanged, DocumentDefinition, jpPost + `['x-ms-trigger']`, func(t *testing.T, d doc) {
			post(t, d)["x-ms-trigger"] = "batch"
		}},
		{ruleParameterRemoved, DocumentPrevious, jpBody + `.schema.properties.storeId`, func(t *testing.T, d doc) {
			delete(obj(t, bodySchema(t, d), "properties"), "storeId")
		}},
		{ruleParameterBecameRequired, DocumentDefinition, jpBody + `.schema.properties.storeId`, func(t *testing.T, d doc) {
			bodySchema(t, d)["required"] = []any{"callbackUrl", "event", "storeId"}
		}},
		{ruleParameterTypeChanged, DocumentDefinition, jpBody + `.schema.properties.storeId`, func(t *testing.T, d doc) {
			obj(t, bodySchema(t, d), "properties", "storeId")["type"] = "integer"
		}},
		{ruleRequiredParameterAdded, DocumentDefinition, jpPost + `.parameters[1]`, func(t *testing.T, d doc) {
			appendTo(t, post(t, d), "parameters", lit(t, `{"name": "region", "in": "query", "required": true, "type": "string", "description": "Region."}`))
		}},
		{rulePropertyRemoved, DocumentPrevious, `$.definitions.OrderCreatedEvent.properties.orderId`, func(t *testing.T, d doc) {
			obj(t, d, "definitions", "OrderCreatedEvent", "properties")["id"] = obj(t, d, "definitions", "OrderCreatedEvent", "properties", "orderId")
			delete(obj(t, d, "definitions", "OrderCreatedEvent", "properties"), "orderId")
		}},
		{rulePropertyTypeChanged, DocumentDefinition, `$.definitions.OrderCreatedEvent.properties.orderId`, func(t *testing.T, d doc) {
			obj(t, d, "definitions", "OrderCreatedEvent", "properties", "orderId")["type"] = "integer"
		}},
		{ruleDeleteOperationChanged, DocumentDefinition, `$.paths['/hooks/{subscriptionId}'].delete`, func(t *testing.T, d doc) {
			paths := obj(t, d, "paths")
			paths["/hooks/{subscriptionId}"] = paths[deletePath]
			delete(paths, deletePath)
		}},
		{ruleSecurityDefinitionRemoved, DocumentPrevious, `$.securityDefinitions.api_key`, func(t *testing.T, d doc) {
			obj(t, d, "securityDefinitions")["key"] = obj(t, d, "securityDefinitions", "api_key")
			delete(obj(t, d, "securityDefinitions"), "api_key")
			d["security"] = lit(t, `[{"key": []}]`)
		}},
	}
	tested := map[string]bool{}
	for _, tc := range cases {
		tested[tc.rule] = true
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			before := encodeDoc(t, loadDoc(t, templateFile))
			next := loadDoc(t, templateFile)
			tc.change(t, next)
			res, err := Diff(before, encodeDoc(t, next))
			require.NoError(t, err)
			require.Len(t, res.Findings, 1, "want one %s, got:\n%s", tc.rule, findingLines(res))
			f := res.Findings[0]
			require.Equal(t, tc.rule, f.Rule)
			require.Equal(t, tc.doc, f.Document, "%s", f)
			require.Equal(t, tc.path, f.Path, "%s", f)
			require.Equal(t, SeverityError, f.Severity)
			require.Positive(t, f.Line)
			require.True(t, res.HasErrors())
		})
	}
	for _, r := range DiffRules() {
		require.True(t, tested[r.Name], "breaking change %s has no case", r.Name)
	}
}

// A compatible next version (an added optional parameter, a new output
// property, a new operation) has no breaking change.
func TestDiffAllowsCompatibleChanges(t *testing.T) {
	t.Parallel()
	before := encodeDoc(t, loadDoc(t, templateFile))
	next := loadDoc(t, templateFile)
	appendTo(t, post(t, next), "parameters", lit(t, `{"name": "region", "in": "query", "type": "string", "description": "Region."}`))
	obj(t, next, "definitions", "OrderCreatedEvent", "properties")["total"] = lit(t, `{"type": "number", "description": "Total."}`)
	obj(t, next, "paths")["/orders"] = action(t, "GetOrders")
	res, err := Diff(before, encodeDoc(t, next))
	require.NoError(t, err)
	require.Empty(t, res.Findings, "%s", findingLines(res))
}

// Diff of two real connectors' versions: removing a trigger of a real
// connector is found, with the position in the previous file.
func TestDiffRealConnector(t *testing.T) {
	t.Parallel()
	files := realConnectors(t)
	var file string
	for _, f := range files {
		if strings.Contains(f, "TractionGuest") {
			file = f
		}
	}
	require.NotEmpty(t, file)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	d := decodeDoc(t, trimBOM(data))
	var removed string
	for path, item := range obj(t, d, "paths") {
		if op, ok := item.(map[string]any)["post"].(map[string]any); ok && op["x-ms-trigger"] != nil {
			removed = op["operationId"].(string)
			delete(obj(t, d, "paths"), path)
			break
		}
	}
	require.NotEmpty(t, removed)
	res, err := Diff(data, encodeDoc(t, d))
	require.NoError(t, err)
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, f.Rule)
		if f.Rule == ruleOperationRemoved {
			require.Contains(t, f.Message, removed)
			require.Equal(t, DocumentPrevious, f.Document)
			require.Positive(t, f.Line)
		}
	}
	require.Contains(t, rules, ruleOperationRemoved)
}

func TestDiffRejectsUnreadableInput(t *testing.T) {
	t.Parallel()
	_, err := Diff([]byte(`[]`), []byte(`{}`))
	require.ErrorContains(t, err, "previous definition")
	_, err = Diff([]byte(`{}`), []byte(`{`))
	require.ErrorContains(t, err, "read definition")
}

// Pairs made from corpus files: three breaking edits of every fifth
// certified connector (an operation removed, an optional query parameter
// made required, a security definition removed) are each found.
func TestDiffCorpusMutations(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("diffs corpus connectors")
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "certified", "*", "apiDefinition.swagger.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skipf("corpus not found at %s", corpusDir)
	}
	step := 5
	if raceEnabled {
		step = 40
	}
	checked := map[string]int{}
	for i := 0; i < len(files); i += step {
		data, err := os.ReadFile(files[i])
		require.NoError(t, err)
		if _, err := parseObject(trimBOM(data), docDefinition); err != nil {
			continue // not JSON: nothing to diff
		}
		expect := func(rule string, mutate func(d doc) bool) {
			d := decodeDoc(t, trimBOM(data))
			if !mutate(d) {
				return
			}
			res, err := Diff(data, encodeDoc(t, d))
			require.NoError(t, err)
			var rules []string
			for _, f := range res.Findings {
				rules = append(rules, f.Rule)
			}
			require.Contains(t, rules, rule, "%s", files[i])
			checked[rule]++
		}
		expect(ruleOperationRemoved, func(d doc) bool {
			for _, path := range sortedKeys(d["paths"]) {
				item, _ := obj(t, d, "paths")[path].(map[string]any)
				for _, m := range httpMethods {
					if op, ok := item[m].(map[string]any); ok && op["operationId"] != nil {
						delete(item, m)
						return true
					}
				}
			}
			return false
		})
		expect(ruleParameterBecameRequired, func(d doc) bool {
			for _, path := range sortedKeys(d["paths"]) {
				item, _ := obj(t, d, "paths")[path].(map[string]any)
				for _, m := range httpMethods {
					op, ok := item[m].(map[string]any)
					if !ok || op["operationId"] == nil {
						continue
					}
					params, _ := op["parameters"].([]any)
					for _, p := range params {
						pm, _ := p.(map[string]any)
						if pm != nil && pm["in"] == "query" && pm["required"] != true && pm["$ref"] == nil && !hasSameNamedItemParam(item, pm) {
							pm["required"] = true
							return true
						}
					}
				}
			}
			return false
		})
		expect(ruleSecurityDefinitionRemoved, func(d doc) bool {
			defs, _ := d["securityDefinitions"].(map[string]any)
			for _, name := range sortedKeys(defs) {
				delete(defs, name)
				return true
			}
			return false
		})
	}
	t.Logf("breaking edits found: %v", checked)
	for _, rule := range []string{ruleOperationRemoved, ruleParameterBecameRequired, ruleSecurityDefinitionRemoved} {
		require.Positive(t, checked[rule], "no corpus connector exercised %s", rule)
	}
}

func hasSameNamedItemParam(item map[string]any, p map[string]any) bool {
	params, _ := item["parameters"].([]any)
	for _, e := range params {
		if em, _ := e.(map[string]any); em != nil && em["name"] == p["name"] {
			return true
		}
	}
	return false
}

func sortedKeys(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
