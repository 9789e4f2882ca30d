package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/triggerd/triggerd/connector/lint"
)

// connectorLintCmd checks any Power Platform connector definition offline,
// with the rules of Microsoft's validator (a closed service behind an Azure
// AD login) and triggerd's trigger rules.
type connectorLintCmd struct {
	File       string `arg:"" type:"existingfile" help:"The connector definition (apiDefinition.swagger.json)."`
	Properties string `name:"properties" short:"p" type:"existingfile" help:"The connector's apiProperties.json, checked against its schema and the definition."`
	Format     string `name:"format" default:"text" enum:"text,json" help:"Output: text (severity, rule, JSON path, message per line) or json (one JSON object per line)."`
}

// lintFailed is returned when the definition has errors; main exits 1.
type lintFailed struct{ summary string }

func (e lintFailed) Error() string { return e.summary }
func (e lintFailed) ExitCode() int { return 1 }

// lintUnusable is returned when a file cannot be read or is not a JSON
// object; main exits 2, so that a build tells "the connector has errors"
// (1) from "nothing was checked" (2).
type lintUnusable struct{ err error }

func (e lintUnusable) Error() string { return e.err.Error() }
func (e lintUnusable) Unwrap() error { return e.err }
func (e lintUnusable) ExitCode() int { return 2 }

func (c *connectorLintCmd) Run() error { return c.run(os.Stdout, os.Stderr) }

// run prints one finding per line to stdout and a summary to stderr. It
// returns lintFailed when there are errors: warnings and infos alone pass,
// so a build can run lint and keep going on advice. Files it cannot lint
// give lintUnusable.
func (c *connectorLintCmd) run(stdout, stderr io.Writer) error {
	def, err := os.ReadFile(c.File)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector lint: %w", err)}
	}
	var opts lint.Options
	if c.Properties != "" {
		if opts.Properties, err = os.ReadFile(c.Properties); err != nil {
			return lintUnusable{fmt.Errorf("connector lint: %w", err)}
		}
	}
	res, err := lint.Lint(def, opts)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector lint %s: %w", c.File, err)}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, f := range res.Findings {
		if c.Format == "json" {
			if err := enc.Encode(f); err != nil {
				return fmt.Errorf("connector lint: write: %w", err)
			}
			continue
		}
		if f.Document == lint.DocumentProperties {
			// Say which file the path is in: the definition is the default.
			f.Path = c.Properties + ":" + f.Path
		}
		if _, err := fmt.Fprintln(stdout, f.String()); err != nil {
			return fmt.Errorf("connector lint: write: %w", err)
		}
	}
	summary := fmt.Sprintf("%s: %s, %s, %s", c.File,
		plural(res.Count(lint.SeverityError), "error"),
		plural(res.Count(lint.SeverityWarning), "warning"),
		plural(res.Count(lint.SeverityInfo), "info"))
	if res.HasErrors() {
		return lintFailed{summary: summary}
	}
	_, err = fmt.Fprintln(stderr, summary)
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
