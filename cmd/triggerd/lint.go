package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/triggerd/triggerd/connector/lint"
)

// connectorLintCmd checks any Power Platform connector definition offline,
// with the rules of Microsoft's validator (a closed service behind an Azure
// AD login) and triggerd's trigger rules.
type connectorLintCmd struct {
	// The files are plain strings, not kong's existingfile: kong would exit
	// 80 on a missing file, where lint promises 2 ("nothing was checked").
	File       string `arg:"" help:"The connector definition (apiDefinition.swagger.json)."`
	Properties string `name:"properties" short:"p" help:"The connector's apiProperties.json, checked against its schema and the definition."`
	Format     string `name:"format" default:"text" enum:"text,json" help:"Output: text (file:line:column, severity, rule, JSON path, message per line) or json (one JSON object per line)."`
}

// Exit statuses of lint and diff, documented in docs/connector.md.
const (
	exitFindings = 1 // errors (lint) or breaking changes (diff) found
	exitUnusable = 2 // a file could not be read or is not a definition
)

// lintFailed is returned when the definition has errors; main exits 1.
type lintFailed struct{ summary string }

func (e lintFailed) Error() string { return e.summary }
func (e lintFailed) ExitCode() int { return exitFindings }

// lintUnusable is returned when a file cannot be read or is not a JSON
// object; main exits 2, so that a build tells "the connector has errors"
// (1) from "nothing was checked" (2).
type lintUnusable struct{ err error }

func (e lintUnusable) Error() string { return e.err.Error() }
func (e lintUnusable) Unwrap() error { return e.err }
func (e lintUnusable) ExitCode() int { return exitUnusable }

func (c *connectorLintCmd) Run() error { return c.run(os.Stdout, os.Stderr) }

// jsonFinding is one line of --format json: the finding and the file its
// line and column are in.
type jsonFinding struct {
	File string `json:"file"`
	lint.Finding
}

// run prints one finding per line to stdout and a summary to stderr. It
// returns lintFailed when there are errors: warnings and infos alone pass,
// so a build can run lint and keep going on advice. Files it cannot lint
// give lintUnusable.
func (c *connectorLintCmd) run(stdout, stderr io.Writer) error {
	def, err := readInput(c.File)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector lint: %w", err)}
	}
	var opts lint.Options
	if c.Properties != "" {
		if opts.Properties, err = readInput(c.Properties); err != nil {
			return lintUnusable{fmt.Errorf("connector lint: %w", err)}
		}
	}
	res, err := lint.Lint(def, opts)
	if err != nil {
		return lintUnusable{fmt.Errorf("connector lint: %s is not a connector definition: %w", c.File, err)}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, f := range res.Findings {
		file := c.File
		if f.Document == lint.DocumentProperties {
			file = c.Properties
		}
		if c.Format == "json" {
			if err := enc.Encode(jsonFinding{File: file, Finding: f}); err != nil {
				return fmt.Errorf("connector lint: write: %w", err)
			}
			continue
		}
		if _, err := fmt.Fprintf(stdout, "%s:%d:%d: %s\n", file, f.Line, f.Column, f); err != nil {
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

// readInput reads a file to lint or diff, saying which one could not be
// read and why.
func readInput(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("cannot read %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return data, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
