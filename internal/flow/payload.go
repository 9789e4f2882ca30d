package flow

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// payload describes what a trigger body should look like and how the
// platform splits it into runs.
type payload struct {
	// what names the schema in messages.
	what string
	// whole validates the entire body.
	whole *validator
	// items validates one element when the body is split.
	items *validator
	// array is true when the schema's root is an array (a webhook like ACS
	// SMS Events, or a polling response like Actsoft's).
	array bool
	// collection is the property holding the items of an object body
	// ("value", "results"); "" when the body itself is the array.
	collection string
	// headers are the headers x-ms-notification-content declares.
	headers []string
	// unchecked, when set, says why payloads cannot be validated; runs
	// then say so instead of claiming a match.
	unchecked string
}

// setSchema compiles the schema and works out where its items are.
func (p *payload) setSchema(s *session, raw any) {
	p.whole = s.def.newValidator(raw)
	if raw == nil {
		p.unchecked = "the definition declares no " + p.what
	}
	if p.whole.err != nil {
		p.unchecked = "the " + p.what + " does not compile"
		s.deviate(Warning, "definition", "schema-uncompilable",
			"the %s cannot be compiled as JSON Schema draft-04, so payloads are not validated: %v", p.what, p.whole.err)
	}
	root := s.def.rawDeref(raw)
	if root == nil {
		return
	}
	if root["type"] == "array" {
		p.array = true
		p.items = s.def.newValidator(root["items"])
	}
}

// setCollection points the items at an array property of an object body.
func (p *payload) setCollection(s *session, root map[string]any, name string) {
	p.collection = name
	prop := s.def.rawDeref(rawMap(root, "properties")[name])
	p.items = s.def.newValidator(prop["items"])
}

// split decides split-on: the maker's choice, else the platform's default of
// splitting array payloads ("If your trigger's Swagger file describes a
// payload that is an array, the SplitOn property is automatically added",
// https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
func (s *session) split(p *payload) bool {
	if s.cfg.SplitOn != nil {
		return *s.cfg.SplitOn
	}
	return p.array || p.collection != ""
}

// itemsOf returns the array to split and the JSON Pointer it sits at.
func (p *payload) itemsOf(body any) ([]any, string, bool) {
	if p.collection != "" {
		if m, ok := body.(map[string]any); ok {
			if arr, ok := m[p.collection].([]any); ok {
				return arr, "/" + strings.ReplaceAll(strings.ReplaceAll(p.collection, "~", "~0"), "/", "~1"), true
			}
		}
		return nil, "", false
	}
	arr, ok := body.([]any)
	return arr, "", ok
}

// record turns one notification or poll response into runs, validates and
// prints them, and reports whether Config.Runs has been reached.
func (s *session) record(source int, received time.Time, headers map[string]string, p *payload, body []byte) bool {
	var runs []RunRecord
	inst, err := decodeBody(body)
	switch {
	case err != nil:
		runs = append(runs, RunRecord{Item: -1, Body: string(body), Errors: []SchemaError{{Path: "/", Message: "not valid JSON: " + err.Error()}}})
	case s.split(p):
		arr, at, ok := p.itemsOf(inst)
		if !ok {
			runs = append(runs, RunRecord{Item: -1, Body: inst, Errors: p.whole.validate(inst)})
			if len(runs[0].Errors) == 0 {
				where := "the body"
				if p.collection != "" {
					where = "property " + strconv.Quote(p.collection)
				}
				runs[0].Errors = []SchemaError{{Path: "/", Message: where + " is not an array, so split-on cannot divide it; the platform fails the trigger"}}
			}
			break
		}
		if len(arr) == 0 {
			s.deviate(Warning, "validate", "empty-array",
				"payload %d holds an empty array: the platform starts no run for it. A polling trigger with nothing new answers 202 instead (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)", source)
		}
		for i, item := range arr {
			var errs []SchemaError
			for _, e := range p.items.validate(item) {
				path := at + "/" + strconv.Itoa(i)
				if e.Path != "/" {
					path += e.Path
				}
				errs = append(errs, SchemaError{Path: path, Message: e.Message})
			}
			runs = append(runs, RunRecord{Item: i, Body: item, Errors: errs})
		}
	default:
		runs = append(runs, RunRecord{Item: -1, Body: inst, Errors: p.whole.validate(inst)})
	}

	s.mu.Lock()
	for i := range runs {
		runs[i].Number = len(s.report.Runs) + 1
		runs[i].Received = received.UTC()
		runs[i].Source = source
		runs[i].Headers = headers
		runs[i].Valid = len(runs[i].Errors) == 0
		runs[i].Checked = p.unchecked == ""
		runs[i].Unchecked = p.unchecked
		s.report.Runs = append(s.report.Runs, runs[i])
	}
	reached := s.cfg.Runs > 0 && len(s.report.Runs) >= s.cfg.Runs
	s.mu.Unlock()

	for _, r := range runs {
		s.out.run(r)
		if !r.Valid {
			s.deviate(Error, "validate", "schema-mismatch",
				"run %d does not match the %s: %s. The designer's dynamic content is built from that schema, so flows reading these fields get nothing or fail (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", r.Number, p.what, joinErrors(r.Errors))
		}
	}
	return reached
}

func decodeBody(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	return decodeJSON(body)
}

func joinErrors(errs []SchemaError) string {
	const show = 5
	parts := make([]string, 0, show)
	for i, e := range errs {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-show))
			break
		}
		parts = append(parts, e.Path+": "+e.Message)
	}
	return strings.Join(parts, "; ")
}

// checkRunsReached reports a --timeout that came before the runs asked for;
// a Ctrl-C is the maker's choice and is not reported.
func (s *session) checkRunsReached(ctx context.Context) {
	s.mu.Lock()
	got := len(s.report.Runs)
	s.mu.Unlock()
	if s.cfg.Runs > 0 && got < s.cfg.Runs && isDeadline(ctx.Err()) {
		s.deviate(Error, "run", "runs-not-reached",
			"%d of the %d runs asked for happened before the %s timeout", got, s.cfg.Runs, s.cfg.Timeout)
	}
}
