package lint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLintRejectsUnreadableInput(t *testing.T) {
	t.Parallel()
	for name, input := range map[string]string{
		"empty":          ``,
		"not JSON":       `swagger: "2.0"`,
		"truncated":      `{"swagger": "2.0", "paths": {`,
		"array":          `[{"swagger": "2.0"}]`,
		"string":         `"2.0"`,
		"null":           `null`,
		"trailing data":  `{"swagger": "2.0"} {}`,
		"trailing comma": `{"swagger": "2.0",}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Lint([]byte(input), Options{})
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "lint: read definition: "), err.Error())

			// An unreadable apiProperties.json is one finding; the
			// definition is still linted.
			res, err := Lint([]byte(`{"swagger": "2.0"}`), Options{Properties: []byte(input)})
			require.NoError(t, err)
			var props []Finding
			for _, f := range res.Findings {
				if f.Document == DocumentProperties {
					props = append(props, f)
				}
			}
			require.Len(t, props, 1)
			require.Equal(t, ruleAPIPropertiesNotValidJSON, props[0].Rule)
			require.Equal(t, SeverityError, props[0].Severity)
			require.Contains(t, res.Findings[0].Rule, "SchemaViolation", "the definition's findings are kept")
		})
	}
}

// Any JSON object is lintable: what is wrong with it is findings.
func TestLintReportsEverythingElseAsFindings(t *testing.T) {
	t.Parallel()
	res, err := Lint([]byte(`{}`), Options{Properties: []byte(`{}`)})
	require.NoError(t, err)
	require.True(t, res.HasErrors())
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, string(f.Document)+" "+f.Rule+" "+f.Path)
	}
	// Missing members sort where their object is, then by path.
	require.Equal(t, []string{
		"apiDefinition SchemaViolation $.info",
		"apiDefinition SchemaViolation $.paths",
		"apiDefinition SpecificationVersionIncorrect $.swagger",
		"apiDefinition ConnectorMetadataPropertiesMissing $['x-ms-connector-metadata']",
		"apiProperties ApiPropertiesSchemaViolation $.properties",
	}, rules)
	// Only the version is an error: Microsoft's schemas are editor aids,
	// whose violations the validator accepts on certified connectors.
	require.Equal(t, 1, res.Count(SeverityError))
	require.Equal(t, 2, res.Count(SeverityWarning))
}

func TestFindingJSONAndString(t *testing.T) {
	t.Parallel()
	f := Finding{Severity: SeverityWarning, Rule: "R", Document: DocumentDefinition, Path: "$.paths['/a b']", Message: "m <&>", Line: 3, Column: 7}
	require.Equal(t, "warning R $.paths['/a b'] m <&>", f.String())
	data, err := json.Marshal(f)
	require.NoError(t, err)
	require.JSONEq(t, `{"severity":"warning","rule":"R","document":"apiDefinition","path":"$.paths['/a b']","message":"m <&>","line":3,"column":7}`, string(data))
}

// Findings carry the line and column of their value, in characters, also
// after a byte-order mark and multi-byte text; a missing member is located
// at the object that should hold it.
func TestFindingPosition(t *testing.T) {
	t.Parallel()
	def := "\xEF\xBB\xBF{\n  \"info\": {\"title\": \"é\", \"version\": \"1\"},\n  \"paths\": {},\n  \"swagger\": \"3.0\"\n}"
	res, err := Lint([]byte(def), Options{})
	require.NoError(t, err)
	require.NotEmpty(t, res.Findings)
	found := false
	for _, f := range res.Findings {
		if f.Rule == ruleSpecificationVersionIncorrect {
			found = true
			require.Equal(t, 4, f.Line, "%s", f)
			require.Equal(t, 14, f.Column, "%s", f)
		}
	}
	require.True(t, found)

	res, err = Lint([]byte("{\"info\": {\"title\": \"é\"}, \"paths\": {}, \"swagger\": \"2.0\"}"), Options{})
	require.NoError(t, err)
	var version *Finding
	for i, f := range res.Findings {
		if f.Path == "$.info.version" {
			version = &res.Findings[i]
		}
	}
	require.NotNil(t, version, "%v", res.Findings)
	require.Equal(t, 1, version.Line)
	require.Equal(t, 10, version.Column)
}

func TestRulesCatalogue(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for _, r := range Rules() {
		require.False(t, seen[r.Name], "rule %s listed twice", r.Name)
		seen[r.Name] = true
		require.Contains(t, []Severity{SeverityError, SeverityWarning, SeverityInfo}, r.Severity, r.Name)
		require.Contains(t, []string{originValidator, originSchema, originTriggerd}, r.Origin, r.Name)
		require.NotEmpty(t, r.Description, r.Name)
	}
	// Rules returns a copy: callers cannot change what Lint reports.
	Rules()[0].Severity = SeverityInfo
	require.NotEqual(t, SeverityInfo, Rules()[0].Severity)
}

func TestPaths(t *testing.T) {
	t.Parallel()
	root, err := parseTree([]byte(`{"paths": {"/a/{id}": {"post": {"parameters": [{"x-ms-url-encoding": "single"}]}}},
		"it's": {"a\\b": {"new\nline": 1}}, "_x9": [[true]]}`), docDefinition)
	require.NoError(t, err)
	for tokens, want := range map[string]string{
		"":                              "$",
		"paths//a/{id}/post/parameters": "$.paths['/a/{id}'].post.parameters",
		"paths//a/{id}/post/parameters/0/x-ms-url-encoding": "$.paths['/a/{id}'].post.parameters[0]['x-ms-url-encoding']",
		"it's/a\\b/new\nline":                               `$['it\'s']['a\\b']['new\nline']`,
		"_x9/0/0":                                           "$._x9[0][0]",
	} {
		var toks []string
		if tokens != "" {
			toks = splitTokens(tokens)
		}
		n, done := root.at(toks)
		require.Equal(t, len(toks), done, tokens)
		require.Equal(t, want, n.path())
		require.Equal(t, want, pointerToPath(root, toks))
	}
	// A location the tree does not have keeps what resolved.
	require.Equal(t, "$.paths.missing.deeper", pointerToPath(root, []string{"paths", "missing", "deeper"}))
}

// splitTokens splits test JSON Pointers on "/" except inside the path key
// "/a/{id}", which the tests spell with a leading "//".
func splitTokens(s string) []string {
	if strings.HasPrefix(s, "paths//a/{id}") {
		return append([]string{"paths", "/a/{id}"}, strings.Split(strings.TrimPrefix(s, "paths//a/{id}/"), "/")...)
	}
	return strings.Split(s, "/")
}

func TestParseTreeKeepsOrderAndLastDuplicate(t *testing.T) {
	t.Parallel()
	root, err := parseTree([]byte(`{"b": 1, "a": 2, "b": 3, "n": 1.50, "u": "\u00e9"}`), docDefinition)
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a", "n", "u"}, root.memberNames())
	require.Equal(t, "3", root.get("b").str)
	require.Equal(t, map[string]any{"b": json.Number("3"), "a": json.Number("2"), "n": json.Number("1.50"), "u": "é"}, root.toAny())

	// Large objects are indexed; lookups and duplicates still work.
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 40 {
		fmt.Fprintf(&b, `"k%02d": 1, `, i)
	}
	b.WriteString(`"k00": 2}`)
	root, err = parseTree([]byte(b.String()), docDefinition)
	require.NoError(t, err)
	require.Len(t, root.memberNames(), 40)
	require.Equal(t, "2", root.get("k00").str)
	require.Equal(t, "1", root.get("k39").str)
	require.Nil(t, root.get("k40"))
}

func TestParseTreeBoundsDepth(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	_, err := parseTree([]byte(deep), docDefinition)
	require.ErrorContains(t, err, "nest deeper")

	ok := `{"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`
	res, err := Lint([]byte(ok), Options{})
	require.NoError(t, err)
	require.True(t, res.HasErrors())
}

func TestStripComments(t *testing.T) {
	t.Parallel()
	in := "{\"url\": \"https://x//y\", // comment \"quoted\"\n \"a\": /* block\n */ \"b\\\"//\" } // end"
	want := "{\"url\": \"https://x//y\", \n \"a\": \n \"b\\\"//\" } "
	require.Equal(t, want, string(stripComments([]byte(in))))
	var v map[string]any
	require.NoError(t, json.Unmarshal(stripComments([]byte(in)), &v))
	require.Equal(t, "https://x//y", v["url"])
}

// The embedded schemas are the files of shared/powerplatform/schemas,
// byte for byte.
func TestEmbeddedSchemasMatchShared(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"apiDefinition.swagger.schema.json", "paconn-apiProperties.schema.json"} {
		shared, err := os.ReadFile(filepath.Join("../../../shared/powerplatform/schemas", name))
		if os.IsNotExist(err) {
			t.Skip("shared/ is not checked out beside the repository")
		}
		require.NoError(t, err)
		embedded, err := schemaFiles.ReadFile("schema/" + name)
		require.NoError(t, err)
		require.Equal(t, string(shared), string(embedded), name)
	}
}

// The definition schema's `^x-(?!ms-)` lookahead needs the ECMAScript
// engine: a generic extension is allowed at the root, an unknown x-ms-*
// one is not.
func TestSchemaUsesECMAScriptPatterns(t *testing.T) {
	t.Parallel()
	def := loadDoc(t, templateFile)
	def["x-vendor"] = true
	def["x-ms-vendor"] = true
	res := lintDocs(t, def, loadDoc(t, templatePropsFile))
	require.Len(t, res.Findings, 1, findingLines(res))
	require.Equal(t, ruleSchemaPropertyNotAllowed, res.Findings[0].Rule)
	require.Equal(t, "$['x-ms-vendor']", res.Findings[0].Path)
}

// A wrong parameter is reported as what it is meant to be (a path
// parameter), not as every alternative of the schema's oneOf.
func TestSchemaReportsTheMeantAlternative(t *testing.T) {
	t.Parallel()
	def := loadDoc(t, templateFile)
	obj(t, deleteOp(t, def), "parameters", "0")["type"] = "strin"
	res := lintDocs(t, def, loadDoc(t, templatePropsFile))
	require.Len(t, res.Findings, 1, findingLines(res))
	require.Equal(t, ruleSchemaViolation, res.Findings[0].Rule)
	require.Equal(t, jpDeleteOp+".parameters[0].type", res.Findings[0].Path)
	require.Contains(t, res.Findings[0].Message, "string")
}

// Findings come out in file order, then by rule, and are deterministic.
func TestFindingsOrder(t *testing.T) {
	t.Parallel()
	def := loadDoc(t, templateFile)
	delete(obj(t, deleteOp(t, def), "parameters", "0"), "x-ms-url-encoding")
	delete(deleteOp(t, def), "x-ms-visibility")
	post(t, def)["summary"] = "When an order is created/updated"
	def["host"] = "https://api.example.com"
	first := lintDocs(t, def, loadDoc(t, templatePropsFile))
	var rules []string
	for _, f := range first.Findings {
		rules = append(rules, f.Rule)
	}
	require.Equal(t, []string{
		ruleHostNameNotValid,
		ruleRestrictedCharactersInSummary,
		ruleDeleteOperationNotInternal,
		rulePathParameterMissingEncoding,
	}, rules)
	for range 5 {
		require.Equal(t, first, lintDocs(t, def, loadDoc(t, templatePropsFile)))
	}
}

// A failed oneOf of apiProperties.json reports the branch whose
// discriminator matches: an aad connection with a custom parameter the aad
// branch does not allow (certified Emigo's enableOnbehalfOfLogin) says so,
// not that identityProvider "must be 'aadcertificate'" (13 certified
// connectors got that message).
func TestOneOfNamesTheMatchingBranch(t *testing.T) {
	t.Parallel()
	def, err := os.ReadFile(templateFile)
	require.NoError(t, err)
	props := []byte(`{"properties": {"iconBrandColor": "#007ee5", "capabilities": ["triggers"], "connectionParameters": {
		"token": {"type": "oauthSetting", "oAuthSettings": {"identityProvider": "aad", "clientId": "x", "scopes": [],
			"redirectMode": "Global", "redirectUrl": "https://global.consent.azure-apim.net/redirect",
			"properties": {"IsFirstParty": "False"}, "customParameters": {"resourceUri": {"value": "https://graph.microsoft.com"}, "enableOnbehalfOfLogin": {"value": "false"}}}}}}}`)
	res, err := Lint(def, Options{Properties: props})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Findings {
		if f.Document == DocumentProperties {
			got = append(got, f.Rule+" "+f.Path)
			require.NotContains(t, f.Path, "identityProvider", "%s", f)
		}
	}
	require.Equal(t, []string{"ApiPropertiesSchemaPropertyNotAllowed $.properties.connectionParameters.token.oAuthSettings.customParameters.enableOnbehalfOfLogin"}, got)
}
