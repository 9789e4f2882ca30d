// Package lint checks a Power Platform custom connector definition
// (apiDefinition.swagger.json, and optionally its apiProperties.json) the way
// Microsoft's validator does, offline, plus the trigger checks no validator
// makes; [Diff] reports the changes between two versions that break flows.
//
// Microsoft's validator is a closed service behind an Azure AD login
// (paconn validate, https://learn.microsoft.com/connectors/custom-connectors/paconn-cli),
// so connector authors learn about mistakes late — often from a trigger that
// never shows in the designer, or webhooks that are created and never
// deleted. Lint reports:
//
//   - the validator's own rules, under the names and messages of its published
//     catalogue (https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules);
//   - violations of Microsoft's JSON Schemas for both files
//     (https://github.com/microsoft/PowerPlatformConnectors/tree/dev/schemas),
//     which are embedded in this package;
//   - triggerd's trigger rules: a webhook trigger must have an internal DELETE
//     operation that a Location URL can reach, x-ms-notification-content
//     belongs on the path item, polling triggers declare their Location and
//     Retry-After headers
//     (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger,
//     https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
//
// [Rules] lists every rule with its severity and rationale; docs/design-lint.md
// records how each was judged on 724 real connectors.
//
// Lint never panics and never fails on a readable document: everything wrong
// with a definition is a [Finding]. Its error is only for a definition that is
// not a JSON object.
package lint

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Severity says how bad a finding is.
type Severity string

const (
	// SeverityError means Microsoft's validator or paconn create refuses the
	// file, or the platform cannot run the trigger at all. No rule of this
	// severity fires on a certified connector of the public repository
	// unless the file itself is broken (docs/design-lint.md).
	SeverityError Severity = "error"

	// SeverityWarning means the file is accepted but will misbehave:
	// webhooks that are never deleted, a DELETE without credentials,
	// outputs the designer never shows.
	SeverityWarning Severity = "warning"

	// SeverityInfo is advice: certification naming rules, members the
	// schemas do not know but the service ignores, an undeclared Location
	// header.
	SeverityInfo Severity = "info"
)

// Document names the file a finding is about.
type Document string

const (
	// DocumentDefinition is apiDefinition.swagger.json, the OpenAPI 2.0
	// definition passed to Lint.
	DocumentDefinition Document = "apiDefinition"

	// DocumentProperties is apiProperties.json, passed in Options.Properties.
	DocumentProperties Document = "apiProperties"
)

// Finding is one problem in a connector definition.
type Finding struct {
	// Severity is the rule's severity; see Rules.
	Severity Severity `json:"severity"`

	// Rule is the rule name: the name Microsoft's validator uses for the
	// same check where one exists, so a search for it finds Microsoft's
	// documentation.
	Rule string `json:"rule"`

	// Document is the file the finding is about.
	Document Document `json:"document"`

	// Path is the JSONPath (RFC 9535 syntax) of the value the finding is
	// about, like $.paths['/hooks'].post.parameters[0]. It may name a member
	// that is missing, like $.paths['/x'].post.operationId.
	Path string `json:"path"`

	// Message says what is wrong and, where it is not obvious, how to fix
	// it. Where the validator's catalogue has a message for the rule, it
	// starts with that message verbatim.
	Message string `json:"message"`

	// Line and Column locate the value Path names in the file, counted
	// from 1 (Column in characters), as an editor shows them. For a member
	// that is missing they locate the object that should hold it.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// String formats a finding as one line: severity, rule, path, message.
func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s %s", f.Severity, f.Rule, f.Path, f.Message)
}

// Options configures Lint.
type Options struct {
	// Properties is the content of the connector's apiProperties.json. When
	// set, it is validated against Microsoft's schema and cross-checked with
	// the definition (policies naming operations, polling-trigger policies,
	// capabilities). When nil, those checks are skipped.
	Properties []byte
}

// Result is the outcome of linting one connector.
type Result struct {
	// Findings are ordered by document (definition first), then by where
	// their path appears in the file, then by rule.
	Findings []Finding
}

// Count returns how many findings have severity s.
func (r Result) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// HasErrors reports whether any finding is an error. A connector with only
// warnings and infos passes.
func (r Result) HasErrors() bool { return r.Count(SeverityError) > 0 }

// Lint checks a connector definition. definition is the content of
// apiDefinition.swagger.json. The error is non-nil only when definition (or
// opts.Properties, if set) is not a JSON object; every other problem is a
// finding in the result.
//
// Both files may start with a UTF-8 byte-order mark: paconn reads them as
// utf-8-sig, and certified connectors ship one. An apiProperties.json that
// is not a JSON object is one ApiPropertiesNotValidJson finding; the
// definition's findings are still reported.
func Lint(definition []byte, opts Options) (Result, error) {
	definition = bytes.TrimPrefix(definition, utf8BOM)
	root, err := parseObject(definition, docDefinition)
	if err != nil {
		return Result{}, fmt.Errorf("lint: read definition: %w", err)
	}
	var props *node
	var propsErr error
	propsData := bytes.TrimPrefix(opts.Properties, utf8BOM)
	if opts.Properties != nil {
		props, propsErr = parseObject(propsData, docProperties)
	}
	schemas, err := compiledSchemas()
	if err != nil {
		return Result{}, err // a defect of this package, not of the input
	}
	l := newLinter(root, props)
	l.run()
	l.schemaFindings(schemas)
	if propsErr != nil {
		l.found = append(l.found, located{Finding: Finding{
			Severity: ruleIndex[ruleAPIPropertiesNotValidJSON].Severity, Rule: ruleAPIPropertiesNotValidJSON,
			Document: DocumentProperties, Path: "$", Message: "apiProperties.json cannot be read: " + propsErr.Error() + ". paconn refuses the connector until it is a JSON object.",
		}, offset: syntaxOffset(propsErr)})
	}
	return Result{Findings: l.result(map[docID][]byte{docDefinition: definition, docProperties: propsData})}, nil
}

// utf8BOM is the byte-order mark some editors write at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// syntaxOffset is where a JSON syntax error is, or 0.
func syntaxOffset(err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return int(se.Offset) - 1
	}
	return 0
}

func parseObject(data []byte, doc docID) (*node, error) {
	root, err := parseTree(data, doc)
	if err != nil {
		if off := syntaxOffset(err); off > 0 {
			line, col := position(data, lineStarts(data), off)
			return nil, fmt.Errorf("not valid JSON at line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if root.kind != kindObject {
		return nil, fmt.Errorf("the top-level value is a JSON %s, not an object", root.kindName())
	}
	return root, nil
}

// located is a finding plus where it sorts.
type located struct {
	Finding
	order  int // pre-order position of the node the path names (or its parent)
	offset int // byte offset of that node in its file
}

// report records a finding for the rule at n (a node of the document the
// rule belongs to). Its message is formatted with args.
func (l *linter) report(rule string, n *node, format string, args ...any) {
	l.reportAt(rule, n, n.path(), format, args...)
}

// reportMissing records a finding about member key of n, which is absent or
// is the value at fault.
func (l *linter) reportMissing(rule string, n *node, key, format string, args ...any) {
	if v := n.get(key); v != nil {
		l.reportAt(rule, v, v.path(), format, args...)
		return
	}
	l.reportAt(rule, n, childPath(n.path(), key), format, args...)
}

func (l *linter) reportAt(rule string, n *node, path, format string, args ...any) {
	info := ruleIndex[rule] // rule is one of the constants of rules.go
	doc := DocumentDefinition
	if n.doc == docProperties {
		doc = DocumentProperties
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	l.found = append(l.found, located{
		Finding: Finding{Severity: info.Severity, Rule: rule, Document: doc, Path: path, Message: msg},
		order:   n.seq,
		offset:  n.off,
	})
}

// result sorts and deduplicates the findings, and drops schema findings that
// a named rule already reports, at least as severely, at the same path: a
// path parameter that is not required violates the schema too, but
// PathParameterMustBeRequired says it better.
func (l *linter) result(files map[docID][]byte) []Finding {
	named := make(map[string]int) // document and path → highest severity rank
	key := func(f located) string { return string(f.Document) + "\x00" + f.Path }
	for _, f := range l.found {
		if !isSchemaRule(f.Rule) {
			named[key(f)] = max(named[key(f)], severityRank(f.Severity))
		}
	}
	out := l.found[:0]
	for _, f := range l.found {
		if isSchemaRule(f.Rule) && named[key(f)] >= severityRank(f.Severity) {
			continue
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b located) int {
		return cmp.Or(
			cmp.Compare(docRank(a.Document), docRank(b.Document)),
			cmp.Compare(a.order, b.order),
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Message, b.Message),
		)
	})
	out = slices.CompactFunc(out, func(a, b located) bool { return a.Finding == b.Finding })
	starts := make(map[Document][]int)
	findings := make([]Finding, len(out))
	for i, f := range out {
		id := docDefinition
		if f.Document == DocumentProperties {
			id = docProperties
		}
		data := files[id]
		if _, ok := starts[f.Document]; !ok {
			starts[f.Document] = lineStarts(data)
		}
		f.Line, f.Column = position(data, starts[f.Document], f.offset)
		findings[i] = f.Finding
	}
	return findings
}

// lineStarts returns the offset of the first byte of every line.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// position turns a byte offset into a 1-based line and character column.
func position(data []byte, starts []int, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	i, found := slices.BinarySearch(starts, off)
	if !found {
		i--
	}
	return i + 1, utf8.RuneCount(data[starts[i]:off]) + 1
}

// severityRank orders severities; 0 is below all of them.
func severityRank(s Severity) int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

func docRank(d Document) int {
	if d == DocumentDefinition {
		return 0
	}
	return 1
}
