package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLint checks that Lint never panics, whatever it is given, and that
// what it returns is well-formed. Seeds are the real connectors (each with
// its apiProperties.json, if any) and the webhook template; run it with
//
//	go test ./connector/lint -run '^$' -fuzz FuzzLint -fuzztime 10s
func FuzzLint(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(connectorsDir, "*-apiDefinition.swagger.json"))
	for _, file := range files {
		def, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if os.Getenv("FUZZ_SMALL") != "" && len(def) > 40000 {
			continue
		}
		f.Add(def, propertiesFor(f, file))
	}
	def, err := os.ReadFile(templateFile)
	if err != nil {
		f.Fatal(err)
	}
	props, err := os.ReadFile(templatePropsFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def, props)
	f.Add(def, []byte(nil))
	f.Add([]byte(`{"paths":{"/a/{b}":{"x-ms-notification-content":{},"post":{"x-ms-trigger":"single","parameters":[{"in":"body","schema":{"$ref":"#/definitions/a"}}]}}},"definitions":{"a":{"$ref":"#/definitions/a","properties":{"u":{"x-ms-notification-url":true}}}}}`), []byte(`{"properties":{"policyTemplateInstances":[{"parameters":{"x-ms-apimTemplate-operationName":[1,"x"]}}]}}`))

	f.Fuzz(func(t *testing.T, def, props []byte) {
		var opts Options
		if len(props) > 0 {
			opts.Properties = props
		}
		res, err := Lint(def, opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "lint: read ") {
				t.Fatalf("error for something other than unreadable input: %v", err)
			}
			return
		}
		for _, f := range res.Findings {
			r, ok := ruleIndex[f.Rule]
			if !ok || r.Severity != f.Severity {
				t.Fatalf("finding of unknown rule or wrong severity: %s", f)
			}
			if !strings.HasPrefix(f.Path, "$") || f.Message == "" {
				t.Fatalf("malformed finding: %s", f)
			}
			if f.Document != DocumentDefinition && f.Document != DocumentProperties {
				t.Fatalf("finding about unknown document %q: %s", f.Document, f)
			}
			if f.Document == DocumentProperties && opts.Properties == nil {
				t.Fatalf("finding about apiProperties.json, which was not given: %s", f)
			}
			if f.Line < 1 || f.Column < 1 {
				t.Fatalf("finding without a position: %+v", f)
			}
		}
		// Any readable definition diffs clean against itself.
		diff, err := Diff(def, def)
		if err != nil {
			t.Fatalf("Diff of a lintable definition with itself: %v", err)
		}
		if len(diff.Findings) > 0 {
			t.Fatalf("Diff of a definition with itself has findings: %v", diff.Findings)
		}
	})
}
