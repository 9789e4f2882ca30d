package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testDefinition is testdata/one-warning.swagger.json: a definition with
// one warning (a path parameter without x-ms-url-encoding), which the lint
// and diff tests of both test packages edit into the cases they need.
func testDefinition(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "one-warning.swagger.json"))
	require.NoError(t, err)
	return string(b)
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestConnectorLintWarningsPass(t *testing.T) {
	t.Parallel()
	cmd := &connectorLintCmd{File: writeTemp(t, "def.json", testDefinition(t)), Format: "text"}
	var stdout, stderr bytes.Buffer
	require.NoError(t, cmd.run(&stdout, &stderr))
	require.Equal(t,
		cmd.File+`:12:24: warning PathParameterMissingEncoding $.paths['/orders/{id}'].get.parameters[0] Encoding for path parameter 'id' is missing, which might lead to invalid requests. Use "x-ms-url-encoding": "single" to ensure the value is URL encoded.`+"\n",
		stdout.String())
	require.Contains(t, stderr.String(), "0 errors, 1 warning, 0 infos")
}

func TestConnectorLintErrorsExit1(t *testing.T) {
	t.Parallel()
	def := strings.Replace(testDefinition(t), `"2.0"`, `"3.0"`, 1)
	props := writeTemp(t, "apiProperties.json", `{"properties": {"iconBrandColor": 5}}`)
	cmd := &connectorLintCmd{File: writeTemp(t, "def.json", def), Properties: props, Format: "json"}
	var stdout, stderr bytes.Buffer
	err := cmd.run(&stdout, &stderr)
	var ec exitCoder
	require.True(t, errors.As(err, &ec), "%v", err)
	require.Equal(t, 1, ec.ExitCode())
	require.Contains(t, err.Error(), "1 error, 1 warning, 1 info")

	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var f map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &f), line)
		got = append(got, f)
	}
	require.Len(t, got, 3)
	require.Equal(t, "SpecificationVersionIncorrect", got[0]["rule"])
	require.Equal(t, "error", got[0]["severity"])
	require.Equal(t, "$.swagger", got[0]["path"])
	require.Equal(t, cmd.File, got[0]["file"])
	require.InDelta(t, 2, got[0]["line"], 0)
	require.InDelta(t, 14, got[0]["column"], 0)
	require.Equal(t, "PathParameterMissingEncoding", got[1]["rule"])
	require.Equal(t, "ApiPropertiesSchemaViolation", got[2]["rule"])
	require.Equal(t, "info", got[2]["severity"])
	require.Equal(t, "apiProperties", got[2]["document"])
	require.Equal(t, "$.properties.iconBrandColor", got[2]["path"])
	require.Equal(t, props, got[2]["file"])
	require.InDelta(t, 1, got[2]["line"], 0)
	require.InDelta(t, 35, got[2]["column"], 0)
}

// In text output, a finding about apiProperties.json names that file.
func TestConnectorLintTextNamesPropertiesFile(t *testing.T) {
	t.Parallel()
	props := writeTemp(t, "apiProperties.json", `{"properties": {"iconBrandColor": 5}}`)
	cmd := &connectorLintCmd{File: writeTemp(t, "def.json", testDefinition(t)), Properties: props, Format: "text"}
	var stdout, stderr bytes.Buffer
	require.NoError(t, cmd.run(&stdout, &stderr))
	require.Contains(t, stdout.String(), props+":1:35: info ApiPropertiesSchemaViolation $.properties.iconBrandColor ")
}

func TestConnectorLintUnreadableInput(t *testing.T) {
	t.Parallel()
	cmd := &connectorLintCmd{File: writeTemp(t, "def.json", `swagger: "2.0"`), Format: "text"}
	var stdout, stderr bytes.Buffer
	err := cmd.run(&stdout, &stderr)
	require.ErrorContains(t, err, "not valid JSON")
	var ec exitCoder
	require.True(t, errors.As(err, &ec), "%v", err)
	require.Equal(t, 2, ec.ExitCode(), "nothing was checked: not the exit status of findings")
	require.Empty(t, stdout.String())

	cmd = &connectorLintCmd{File: filepath.Join(t.TempDir(), "missing.json"), Format: "text"}
	err = cmd.run(&stdout, &stderr)
	require.True(t, errors.As(err, &ec), "%v", err)
	require.Equal(t, 2, ec.ExitCode())
}
