package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// definition is a parsed connector definition. kin-openapi's openapi2 model
// gives typed access to paths, operations, parameters and security; raw keeps
// the document as decoded JSON for what the model does not carry (the
// path-level x-ms-notification-content, schema extensions in their original
// places) and for the JSON Schema compiler.
type definition struct {
	source string
	doc    *openapi2.T
	raw    map[string]any
}

func loadDefinition(ctx context.Context, source string, client *http.Client) (*definition, error) {
	if source == "" {
		return nil, fmt.Errorf("flow: no connector definition: pass --connector FILE|URL")
	}
	data, err := readSource(ctx, source, client)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // files saved by Windows tools carry a BOM
	var doc openapi2.T
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("flow: parse %s as a Swagger 2.0 definition: %w", source, err)
	}
	if doc.Swagger != "2.0" {
		return nil, fmt.Errorf("flow: %s has swagger %q; Power Platform connectors must be Swagger 2.0 (https://swagger.io/specification/v2/)", source, doc.Swagger)
	}
	rawv, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("flow: parse %s: %w", source, err)
	}
	raw, ok := rawv.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("flow: %s is not a JSON object", source)
	}
	return &definition{source: source, doc: &doc, raw: raw}, nil
}

func readSource(ctx context.Context, source string, client *http.Client) ([]byte, error) {
	if !strings.HasPrefix(source, "http://") && !strings.HasPrefix(source, "https://") {
		data, err := os.ReadFile(source)
		if err != nil {
			return nil, fmt.Errorf("flow: read connector definition: %w", err)
		}
		return data, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("flow: connector definition URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("flow: fetch connector definition: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("flow: fetch connector definition: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("flow: fetch connector definition: %s answered %s: %s", source, resp.Status, excerpt(data))
	}
	return data, nil
}

// title names the connector in output.
func (d *definition) title() string {
	if d.doc.Info.Title != "" {
		return d.doc.Info.Title
	}
	return d.source
}

// baseURL is where requests go: the override, or schemes[0]://host+basePath
// exactly as paconn builds the backend URL (https://swagger.io/specification/v2/).
func (d *definition) baseURL(override string) (string, error) {
	if override != "" {
		u, err := url.Parse(override)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "", fmt.Errorf("flow: --base-url %q is not an absolute URL", override)
		}
		return strings.TrimSuffix(override, "/"), nil
	}
	if d.doc.Host == "" {
		return "", fmt.Errorf("flow: the definition has no host (a dynamic-host connector?): pass --base-url")
	}
	scheme := "https"
	if len(d.doc.Schemes) > 0 {
		scheme = d.doc.Schemes[0]
	}
	return strings.TrimSuffix(scheme+"://"+d.doc.Host+d.doc.BasePath, "/"), nil
}

// trigger is one trigger operation and what flow derived from it.
type trigger struct {
	path   string
	method string
	op     *openapi2.Operation
	// rawItem is the path item as decoded JSON.
	rawItem map[string]any
	params  []*openapi2.Parameter
	kind    Kind
	// mode is x-ms-trigger: single or batch.
	mode string
}

// summary is how the designer titles the trigger.
func (t *trigger) summary() string {
	if t.op.Summary != "" {
		return t.op.Summary
	}
	return t.op.OperationID
}

// operation is one operation of the definition.
type operation struct {
	path   string
	method string
	op     *openapi2.Operation
}

// operations lists every operation in a stable order.
func (d *definition) operations() []operation {
	var out []operation
	paths := make([]string, 0, len(d.doc.Paths))
	for p := range d.doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		item := d.doc.Paths[p]
		if item == nil {
			continue
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if op := item.GetOperation(m); op != nil {
				out = append(out, operation{path: p, method: m, op: op})
			}
		}
	}
	return out
}

// trigger finds the trigger operation by operationId and decides its kind.
func (d *definition) trigger(operationID string) (*trigger, error) {
	var found *operation
	ops := d.operations()
	for i := range ops {
		if ops[i].op.OperationID == operationID {
			found = &ops[i]
			break
		}
	}
	if found == nil || extString(found.op.Extensions, "x-ms-trigger") == "" {
		what := "has no operation with"
		if found != nil {
			what = "has an operation without x-ms-trigger (an action, not a trigger) with"
			if t, err := d.newOperation(found); err == nil && d.hasNotificationURL(t) {
				return nil, fmt.Errorf("flow: %s: %s is a webhook action (send and wait for a response), not a trigger: run it with --action %s", d.source, operationID, operationID)
			}
		}
		return nil, fmt.Errorf("flow: %s %s operationId %q; its triggers are:\n%s", d.source, what, operationID, d.listTriggers())
	}
	t, err := d.newOperation(found)
	if err != nil {
		return nil, err
	}
	t.kind = d.kindOf(t)
	if t.kind == KindWebhook {
		switch t.method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			return nil, fmt.Errorf("flow: webhook trigger %s uses %s; the platform registers webhooks with POST, PUT or PATCH (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", operationID, t.method)
		}
		if !d.hasNotificationURL(t) {
			return nil, fmt.Errorf("flow: webhook trigger %s has no body property marked \"x-ms-notification-url\": true, so the platform has nowhere to put the callback URL (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", operationID)
		}
	}
	return t, nil
}

// newOperation gathers an operation's path item and parameters.
func (d *definition) newOperation(o *operation) (*trigger, error) {
	t := &trigger{
		path:    o.path,
		method:  o.method,
		op:      o.op,
		rawItem: rawMap(d.raw, "paths", o.path),
		mode:    extString(o.op.Extensions, "x-ms-trigger"),
	}
	params, err := d.parameters(d.doc.Paths[o.path], o.op)
	if err != nil {
		return nil, err
	}
	t.params = params
	return t, nil
}

// action finds a webhook action by operationId: an operation without
// x-ms-trigger whose body carries x-ms-notification-url. The engine calls
// it as an ApiConnectionWebhook action, waiting for the callback before the
// flow goes on
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers#apiconnectionwebhook-action).
func (d *definition) action(operationID string) (*trigger, error) {
	for _, o := range d.operations() {
		if o.op.OperationID != operationID {
			continue
		}
		if extString(o.op.Extensions, "x-ms-trigger") != "" {
			return nil, fmt.Errorf("flow: %s is a trigger (x-ms-trigger), not an action: run it with --trigger %s", operationID, operationID)
		}
		t, err := d.newOperation(&o)
		if err != nil {
			return nil, err
		}
		if !d.hasNotificationURL(t) {
			return nil, fmt.Errorf("flow: action %s has no body property marked \"x-ms-notification-url\": true, so it is an ordinary action, not a webhook action (send and wait for a response)", operationID)
		}
		switch t.method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			return nil, fmt.Errorf("flow: webhook action %s uses %s; the callback URL travels in a request body (POST, PUT or PATCH)", operationID, t.method)
		}
		t.kind = KindAction
		t.mode = "send and wait"
		return t, nil
	}
	return nil, fmt.Errorf("flow: %s has no operation with operationId %q", d.source, operationID)
}

// kindOf: a path item with x-ms-notification-content, or a body property
// marked x-ms-notification-url, makes a webhook
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger);
// everything else with x-ms-trigger is polled (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
func (d *definition) kindOf(t *trigger) Kind {
	if _, ok := t.rawItem["x-ms-notification-content"]; ok {
		return KindWebhook
	}
	if d.hasNotificationURL(t) {
		return KindWebhook
	}
	return KindPolling
}

func (d *definition) hasNotificationURL(t *trigger) bool {
	for _, p := range t.params {
		if isNotificationURL(p.Extensions) {
			return true
		}
		if p.In == "body" && p.Schema != nil && d.schemaHasNotificationURL(p.Schema, 0) {
			return true
		}
	}
	return false
}

func (d *definition) schemaHasNotificationURL(ref *openapi2.SchemaRef, depth int) bool {
	s := d.schema(ref)
	if s == nil || depth > maxDepth {
		return false
	}
	if isNotificationURL(s.Extensions) {
		return true
	}
	for _, p := range s.Properties {
		if d.schemaHasNotificationURL(p, depth+1) {
			return true
		}
	}
	for _, p := range s.AllOf {
		if d.schemaHasNotificationURL(p, depth+1) {
			return true
		}
	}
	return false
}

func (d *definition) listTriggers() string {
	var b strings.Builder
	for _, o := range d.operations() {
		if extString(o.op.Extensions, "x-ms-trigger") == "" {
			continue
		}
		kind := KindPolling
		if _, ok := rawMap(d.raw, "paths", o.path)["x-ms-notification-content"]; ok {
			kind = KindWebhook
		}
		fmt.Fprintf(&b, "  %-32s %-8s %s %s — %s\n", o.op.OperationID, kind, o.method, o.path, o.op.Summary)
	}
	if b.Len() == 0 {
		return "  (none: no operation carries x-ms-trigger)\n"
	}
	return b.String()
}

// parameters merges path-level and operation parameters (the operation's win
// by name and location) and resolves #/parameters references.
func (d *definition) parameters(item *openapi2.PathItem, op *openapi2.Operation) ([]*openapi2.Parameter, error) {
	var out []*openapi2.Parameter
	add := func(list openapi2.Parameters) error {
		for _, p := range list {
			rp, err := d.resolveParameter(p)
			if err != nil {
				return err
			}
			out = slices.DeleteFunc(out, func(q *openapi2.Parameter) bool { return q.Name == rp.Name && q.In == rp.In })
			out = append(out, rp)
		}
		return nil
	}
	if item != nil {
		if err := add(item.Parameters); err != nil {
			return nil, err
		}
	}
	if err := add(op.Parameters); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *definition) resolveParameter(p *openapi2.Parameter) (*openapi2.Parameter, error) {
	for range maxDepth {
		if p == nil || p.Ref == "" {
			return p, nil
		}
		name, ok := strings.CutPrefix(p.Ref, "#/parameters/")
		if !ok {
			return nil, fmt.Errorf("flow: parameter reference %q: only #/parameters/… references are supported", p.Ref)
		}
		p = d.doc.Parameters[unescapePointer(name)]
		if p == nil {
			return nil, fmt.Errorf("flow: parameter reference #/parameters/%s is not defined", name)
		}
	}
	return nil, fmt.Errorf("flow: parameter reference loop")
}

// maxDepth bounds reference chains and schema nesting, so a cyclic
// definition cannot hang flow.
const maxDepth = 64

// schema follows #/definitions references to the schema itself; nil if the
// reference is dangling.
func (d *definition) schema(ref *openapi2.SchemaRef) *openapi2.Schema {
	for range maxDepth {
		if ref == nil {
			return nil
		}
		if ref.Ref == "" {
			return ref.Value
		}
		name, ok := strings.CutPrefix(ref.Ref, "#/definitions/")
		if !ok {
			return nil
		}
		ref = d.doc.Definitions[unescapePointer(name)]
	}
	return nil
}

// rawDeref follows "$ref": "#/definitions/…" in the raw document.
func (d *definition) rawDeref(v any) map[string]any {
	for range maxDepth {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		name, ok := strings.CutPrefix(ref, "#/definitions/")
		if !ok {
			return nil
		}
		v = rawMap(d.raw, "definitions")[unescapePointer(name)]
	}
	return nil
}

// rawMap walks nested objects of decoded JSON; nil where the path ends.
func rawMap(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func extString(ext map[string]any, key string) string {
	s, _ := ext[key].(string)
	return s
}

// isNotificationURL accepts true and "true": both occur in the wild.
func isNotificationURL(ext map[string]any) bool {
	switch v := ext["x-ms-notification-url"].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// summaryOf is the label a maker sees for an input: x-ms-summary, then title,
// then description.
func summaryOf(ext map[string]any, title, description string) string {
	if s := extString(ext, "x-ms-summary"); s != "" {
		return s
	}
	if title != "" {
		return title
	}
	return description
}

// excerpt shortens a body for messages.
func excerpt(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
