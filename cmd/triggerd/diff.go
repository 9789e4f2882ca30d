package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/triggerd/triggerd/connector/lint"
)

// connectorDiffCmd reports the changes between two versions of a connector
// definition that break flows built on the older one, as the public
// repository's change validation does before it accepts a new version.
type connectorDiffCmd struct {
	Old    string `arg:"" name:"old" help:"The previous version of the definition (apiDefinition.swagger.json)."`
	New    string `arg:"" name:"new" help:"The new version of the definition."`
	Format string `name:"format" default:"text" enum:"text,json" help:"Output: text (file:line:column, severity, rule, JSON path, message per line) or json (one JSON object per line)."`
}

// diffBreaking is returned when there are breaking changes; main exits 1.
type diffBreaking struct{ summary string }

func (e diffBreaking) Error() string { return e.summary }
func (e diffBreaking) ExitCode() int { return exitFindings }

func (c *connectorDiffCmd) Run() error { return c.run(os.Stdout, os.Stderr) }

// run prints one breaking change per line to stdout and a count to stderr;
// it exits 1 when there is any, 2 when a file cannot be compared.
func (c *connectorDiffCmd) run(stdout, stderr io.Writer) error {
	old, err := readInput(c.Old)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector diff: %w", err)}
	}
	cur, err := readInput(c.New)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector diff: %w", err)}
	}
	res, err := lint.Diff(old, cur)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector diff %s %s: %w", c.Old, c.New, err)}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, f := range res.Findings {
		file := c.New
		if f.Document == lint.DocumentPrevious {
			file = c.Old
		}
		if c.Format == "json" {
			if err := enc.Encode(jsonFinding{File: file, Finding: f}); err != nil {
				return fmt.Errorf("connector diff: write: %w", err)
			}
			continue
		}
		if _, err := fmt.Fprintf(stdout, "%s:%d:%d: %s\n", file, f.Line, f.Column, f); err != nil {
			return fmt.Errorf("connector diff: write: %w", err)
		}
	}
	summary := fmt.Sprintf("%s → %s: %s", c.Old, c.New, plural(len(res.Findings), "breaking change"))
	if len(res.Findings) > 0 {
		return diffBreaking{summary: summary}
	}
	_, err = fmt.Fprintln(stderr, summary)
	return err
}
