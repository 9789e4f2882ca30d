package triggerd_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDesignPackageTableMatchesTheTree keeps docs/design.md's package table
// true: every package of the module has a row, and every row names a
// package that exists.
func TestDesignPackageTableMatchesTheTree(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/design.md")
	require.NoError(t, err)
	section := string(doc)
	start := strings.Index(section, "## Packages")
	require.GreaterOrEqual(t, start, 0, "docs/design.md has a Packages section")
	section = section[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	documented := map[string]bool{}
	name := regexp.MustCompile("`([a-z][a-z/]*)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			documented[m[1]] = true
		}
	}

	var packages []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = "triggerd"
		}
		if !slices.Contains(packages, dir) {
			packages = append(packages, dir)
		}
		return nil
	})
	require.NoError(t, err)
	for _, p := range packages {
		require.True(t, documented[p], "package %s has no row in docs/design.md's package table", p)
	}
	for d := range documented {
		if d == "triggerd" {
			continue
		}
		require.Contains(t, packages, d, "docs/design.md names package %s, which does not exist", d)
	}
}
