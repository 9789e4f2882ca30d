package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// exitTestDefinition is the definition the lint tests of package main
// use too (testdata/one-warning.swagger.json): one warning, a path
// parameter without x-ms-url-encoding.
func exitTestDefinition(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "one-warning.swagger.json"))
	require.NoError(t, err)
	return string(b)
}

// The exit statuses hold through the real binary, where kong wraps what a
// command returns: 0 clean (a byte-order mark is fine), 1 errors, 2 nothing
// could be checked, with a message naming the file and the reason.
func TestConnectorLintExitStatus(t *testing.T) {
	t.Parallel()
	fixed := strings.Replace(exitTestDefinition(t), `"type": "string"}`, `"type": "string", "x-ms-url-encoding": "single"}`, 1)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		status        int
		stderr        string
	}{
		{"clean", fixed, 0, "0 errors"},
		{"bom", "\xEF\xBB\xBF" + fixed, 0, "0 errors"},
		{"warnings", exitTestDefinition(t), 0, "1 warning"},
		{"errors", strings.Replace(exitTestDefinition(t), `"2.0"`, `"3.0"`, 1), 1, "1 error"},
		{"not json", `swagger: "2.0"`, 2, "not valid JSON"},
		{"not an object", `["swagger"]`, 2, "not an object"},
		{"missing", "", 2, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if tc.name != "missing" {
				require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			}
			cmd := exec.Command(binary, "connector", "lint", path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.status, status, "stderr: %s", stderr.String())
			require.Contains(t, stderr.String(), tc.stderr)
			if tc.status == 2 {
				require.Contains(t, stderr.String(), path, "the message names the file")
			}
		})
	}
}

// connector diff exits 0 without breaking changes (a definition against a
// reformatted copy), 1 with one, 2 when a file cannot be compared.
func TestConnectorDiffExitStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	old := write("old.json", exitTestDefinition(t))
	same := write("same.json", strings.ReplaceAll(exitTestDefinition(t), "\n", "\n\n"))
	renamed := write("renamed.json", strings.Replace(exitTestDefinition(t), `"GetOrder"`, `"GetAnOrder"`, 1))
	broken := write("broken.json", `{"swagger":`)
	for _, tc := range []struct {
		name, old, new string
		status         int
		out            string
	}{
		{"same", old, same, 0, ""},
		{"renamed", old, renamed, 1, "OperationIdChanged"},
		{"broken", old, broken, 2, broken},
		{"missing", old, filepath.Join(dir, "missing.json"), 2, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(binary, "connector", "diff", tc.old, tc.new)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.status, status, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			require.Contains(t, stdout.String()+stderr.String(), tc.out)
		})
	}
}
