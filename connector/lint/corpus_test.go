package lint

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// corpusDir holds 724 real connectors of microsoft/PowerPlatformConnectors
// (commit 8bff86e): certified/, independent/ and custom/, one folder each
// with apiDefinition.swagger.json and, where there is one, apiProperties.json.
const corpusDir = "../../../shared/powerplatform/corpus"

// corpusSummary is what the corpus test pins: per rule and severity, how
// many findings each kind of connector gets, and which certified
// connectors get an error. Every certified connector passed Microsoft's
// validator, so each one listed needs an explanation in docs/design-lint.md.
type corpusSummary struct {
	Connectors map[string]int `json:"connectors"` // per kind
	// Unreadable lists definitions that are not JSON objects (lint's
	// error; the CLI exits 2).
	Unreadable []string `json:"unreadable"`
	// Findings counts findings by "rule severity" and kind.
	Findings map[string]map[string]int `json:"findings"`
	// ConnectorsWithError counts connectors with at least one error, by kind.
	ConnectorsWithError map[string]int `json:"connectorsWithError"`
	// CertifiedWithError names them for certified connectors, with their
	// error rules.
	CertifiedWithError map[string][]string `json:"certifiedWithError"`
}

type corpusEntry struct {
	kind, name string
	res        Result
	err        error
}

// lintCorpus lints every connector of the corpus, two at a time.
func lintCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	var dirs []string
	for _, kind := range []string{"certified", "independent", "custom"} {
		entries, err := os.ReadDir(filepath.Join(corpusDir, kind))
		if errors.Is(err, fs.ErrNotExist) {
			t.Skipf("corpus not found at %s", corpusDir)
		}
		require.NoError(t, err)
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, kind+"/"+e.Name())
			}
		}
	}
	out := make([]corpusEntry, len(dirs))
	var wg sync.WaitGroup
	work := make(chan int)
	for range 2 {
		wg.Go(func() {
			for i := range work {
				kind, name, _ := strings.Cut(dirs[i], "/")
				dir := filepath.Join(corpusDir, dirs[i])
				def, err := os.ReadFile(filepath.Join(dir, "apiDefinition.swagger.json"))
				if err != nil {
					out[i] = corpusEntry{kind: kind, name: name, err: err}
					continue
				}
				var opts Options
				if props, err := os.ReadFile(filepath.Join(dir, "apiProperties.json")); err == nil {
					opts.Properties = props
				}
				res, err := Lint(def, opts)
				out[i] = corpusEntry{kind: kind, name: name, res: res, err: err}
			}
		})
	}
	for i := range dirs {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

func summarize(entries []corpusEntry) corpusSummary {
	s := corpusSummary{
		Connectors: map[string]int{}, Findings: map[string]map[string]int{},
		ConnectorsWithError: map[string]int{}, CertifiedWithError: map[string][]string{},
	}
	for _, e := range entries {
		s.Connectors[e.kind]++
		if e.err != nil {
			s.Unreadable = append(s.Unreadable, e.kind+"/"+e.name)
			continue
		}
		var errRules []string
		for _, f := range e.res.Findings {
			key := f.Rule + " " + string(f.Severity)
			if s.Findings[key] == nil {
				s.Findings[key] = map[string]int{}
			}
			s.Findings[key][e.kind]++
			if f.Severity == SeverityError && !slices.Contains(errRules, f.Rule) {
				errRules = append(errRules, f.Rule)
			}
		}
		if len(errRules) > 0 {
			s.ConnectorsWithError[e.kind]++
			if e.kind == "certified" {
				slices.Sort(errRules)
				s.CertifiedWithError[e.name] = errRules
			}
		}
	}
	slices.Sort(s.Unreadable)
	return s
}

const corpusGolden = "testdata/corpus-summary.json"

// TestCorpus lints the real corpus and compares the outcome with
// testdata/corpus-summary.json (-update rewrites it). A change there is a
// change of what connector authors see: judge the new findings, record the
// judgement in docs/design-lint.md, then update.
func TestCorpus(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lints 724 connectors")
	}
	s := summarize(lintCorpus(t))
	got, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	if *update {
		require.NoError(t, os.WriteFile(corpusGolden, got, 0o644))
	}
	want, err := os.ReadFile(corpusGolden)
	require.NoError(t, err, "run with -update to create it")
	require.JSONEq(t, string(want), string(got), "the corpus findings changed; judge them, then run with -update")

	// The bar: at most 1 % of certified connectors get an error.
	require.LessOrEqual(t, 100*len(s.CertifiedWithError), s.Connectors["certified"],
		"%d of %d certified connectors get an error", len(s.CertifiedWithError), s.Connectors["certified"])
}

// TestCorpusDump writes every finding of the corpus to the file named by
// TRIGGERD_CORPUS_DUMP, for judging them by hand; it is skipped otherwise.
func TestCorpusDump(t *testing.T) {
	path := os.Getenv("TRIGGERD_CORPUS_DUMP")
	if path == "" {
		t.Skip("set TRIGGERD_CORPUS_DUMP to a file to write the corpus findings to")
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	for _, e := range lintCorpus(t) {
		if e.err != nil {
			fmt.Fprintf(w, "%s/%s\tUNREADABLE\t%v\n", e.kind, e.name, e.err)
			continue
		}
		for _, f := range e.res.Findings {
			fmt.Fprintf(w, "%s/%s\t%s\t%s\t%s:%d:%d\t%s\t%s\n", e.kind, e.name, f.Severity, f.Rule, f.Document, f.Line, f.Column, f.Path, f.Message)
		}
	}
	require.NoError(t, w.Flush())
}
