package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
)

// call is a request built from an operation the way the platform builds it
// from a trigger card: internal inputs get their defaults, the callback URL
// goes into the notification-URL property, and visible inputs come from what
// the maker typed (Config.Params).
type call struct {
	method string
	// url is the full request URL (base + path with parameters + query).
	url string
	// header holds header parameters (credentials are added when sending).
	header http.Header
	// body is the JSON body, nil when the operation has none.
	body []byte
	// query is the operation's query parameters, kept so polling can change
	// a state parameter and rebuild the URL.
	query []queryParam
	// pathURL is url without the query.
	pathURL string
}

type queryParam struct{ name, value string }

// rebuild recomputes url after query changed.
func (c *call) rebuild() {
	c.url = c.pathURL
	if len(c.query) > 0 {
		parts := make([]string, len(c.query))
		for i, q := range c.query {
			parts[i] = url.QueryEscape(q.name) + "=" + url.QueryEscape(q.value)
		}
		c.url += "?" + strings.Join(parts, "&")
	}
}

// setQuery sets (or adds) one query parameter.
func (c *call) setQuery(name, value string) {
	for i := range c.query {
		if c.query[i].name == name {
			c.query[i].value = value
			c.rebuild()
			return
		}
	}
	c.query = append(c.query, queryParam{name, value})
	c.rebuild()
}

// input is one value the trigger card has: a parameter, or a leaf property of
// the body (key is then its dotted path).
type input struct {
	in       string // path, query, header, body
	key      string
	summary  string
	required bool
	internal bool
	hasDef   bool
	def      any
	typ      string
	notif    bool
}

func (in *input) label() string {
	if in.summary != "" && in.summary != in.key {
		return fmt.Sprintf("%s (%q, in %s)", in.key, in.summary, in.in)
	}
	return fmt.Sprintf("%s (in %s)", in.key, in.in)
}

// binder hands out the maker's values and remembers which were used.
type binder struct {
	params map[string]string
	used   map[string]bool
	// visible lists every input a maker can set, for error messages.
	visible []*input
	// ignored lists optional internal inputs the platform leaves out.
	ignored []*input
}

func newBinder(params map[string]string) *binder {
	return &binder{params: params, used: map[string]bool{}}
}

// value returns the maker's value for a visible input, trying the qualified
// key ("query:events") before the plain one.
func (b *binder) value(in *input) (string, bool) {
	for _, k := range []string{in.in + ":" + in.key, in.key} {
		if v, ok := b.params[k]; ok {
			b.used[k] = true
			return v, true
		}
	}
	return "", false
}

// resolve decides an input's value: the callback URL, the maker's value, or
// the default, following the platform's rules for internal inputs
// (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions:
// "For parameters that are internal and
// required, you must provide default values"; validator PropertyMustBeRequired:
// "Optional internal fields are ignored").
func (b *binder) resolve(in *input, callbackURL string) (any, bool, error) {
	if in.notif {
		return callbackURL, true, nil
	}
	if in.internal {
		if !in.required {
			if in.hasDef {
				b.ignored = append(b.ignored, in)
			}
			return nil, false, nil
		}
		if !in.hasDef {
			return nil, false, fmt.Errorf("flow: %s is internal and required but has no default, so the platform cannot fill it (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions: internal + required inputs must have a default)", in.label())
		}
		return in.def, true, nil
	}
	b.visible = append(b.visible, in)
	if raw, ok := b.value(in); ok {
		v, err := convert(raw, in)
		return v, err == nil, err
	}
	if in.required {
		if in.hasDef {
			// The designer pre-fills a required input with its default.
			return in.def, true, nil
		}
		return nil, false, fmt.Errorf("flow: required input %s has no value: pass --param %s=VALUE", in.label(), in.key)
	}
	return nil, false, nil
}

// leftovers reports --param names that matched no visible input.
func (b *binder) leftovers(internal []*input) error {
	var unknown []string
	for k := range b.params {
		if !b.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	k := unknown[0]
	_, bare, found := strings.Cut(k, ":")
	if !found {
		bare = k
	}
	for _, in := range internal {
		if in.key == bare {
			return fmt.Errorf("flow: --param %s: %s is internal, so makers cannot set it; the platform always sends its default", k, in.label())
		}
	}
	var names []string
	for _, in := range b.visible {
		names = append(names, "  "+in.label())
	}
	list := "  (none)"
	if len(names) > 0 {
		list = strings.Join(names, "\n")
	}
	return fmt.Errorf("flow: --param %s matches no input of this trigger; its visible inputs are:\n%s", k, list)
}

// buildCall builds the operation's request from values, keyed as
// Config.Params is.
func (s *session) buildCall(op *openapi2.Operation, path, method string, params []*openapi2.Parameter, callbackURL string, values map[string]string) (*call, error) {
	b := newBinder(values)
	var internal []*input
	c := &call{method: method, header: http.Header{}}
	expanded := path
	for _, p := range params {
		if p.In == "body" {
			if p.Schema == nil {
				continue
			}
			w := &bodyWalker{def: s.def, b: b, callbackURL: callbackURL}
			v, ok, err := w.walk(p.Schema, "", p.Required, isInternal(p.Extensions), 0)
			if err != nil {
				return nil, err
			}
			internal = append(internal, w.internal...)
			if !ok {
				v = map[string]any{}
			}
			c.body, err = marshal(v)
			if err != nil {
				return nil, fmt.Errorf("flow: encode request body: %w", err)
			}
			continue
		}
		in := &input{
			in:       p.In,
			key:      p.Name,
			summary:  summaryOf(p.Extensions, "", p.Description),
			required: p.Required || p.In == "path",
			internal: isInternal(p.Extensions),
			hasDef:   p.Default != nil,
			def:      p.Default,
			notif:    isNotificationURL(p.Extensions),
		}
		if p.Type != nil && len(*p.Type) > 0 {
			in.typ = (*p.Type)[0]
		}
		if in.internal {
			internal = append(internal, in)
		}
		if in.notif {
			s.deviate(Warning, "definition", "notification-url-not-in-body",
				"parameter %s carries x-ms-notification-url, which is allowed only on a body property (validator NotificationUrlNotAllowedInThisPosition, https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules); flow fills it anyway", p.Name)
		}
		v, ok, err := b.resolve(in, callbackURL)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		text := paramText(v)
		switch p.In {
		case "path":
			esc := url.PathEscape(text)
			if extString(p.Extensions, "x-ms-url-encoding") == "double" {
				esc = url.PathEscape(esc)
			}
			expanded = strings.ReplaceAll(expanded, "{"+p.Name+"}", esc)
		case "query":
			c.query = append(c.query, queryParam{p.Name, text})
		case "header":
			c.header.Set(p.Name, text)
		default:
			return nil, fmt.Errorf("flow: parameter %s is in %q, which flow does not support (only path, query, header and body)", p.Name, p.In)
		}
	}
	if err := b.leftovers(internal); err != nil {
		return nil, err
	}
	for _, in := range b.ignored {
		s.deviate(Warning, "definition", "optional-internal-ignored",
			"%s is internal with a default but not required; the platform ignores optional internal inputs, so flow does not send it (validator PropertyMustBeRequired, https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules)", in.label())
	}
	if strings.Contains(expanded, "{") {
		return nil, fmt.Errorf("flow: path %s has a template variable with no path parameter declared", expanded)
	}
	c.pathURL = s.base + expanded
	c.rebuild()
	return c, nil
}

// bodyWalker builds the body from its schema, placing the callback URL in the
// property marked x-ms-notification-url however deep it sits and creating the
// objects around it
// (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions;
// ACS SMS Events nests it
// four levels down).
type bodyWalker struct {
	def         *definition
	b           *binder
	callbackURL string
	internal    []*input
}

func (w *bodyWalker) walk(ref *openapi2.SchemaRef, key string, required, internal bool, depth int) (any, bool, error) {
	sch := w.def.schema(ref)
	if sch == nil || depth > maxDepth {
		return nil, false, nil
	}
	internal = internal || isInternal(sch.Extensions)
	props, req := w.properties(sch)
	if len(props) > 0 && !isNotificationURL(sch.Extensions) {
		obj := map[string]any{}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			child := n
			if key != "" {
				child = key + "." + n
			}
			v, ok, err := w.walk(props[n], child, slices.Contains(req, n), internal, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ok {
				obj[n] = v
			}
		}
		if len(obj) > 0 || required {
			return obj, true, nil
		}
		return nil, false, nil
	}
	in := &input{
		in:       "body",
		key:      key,
		summary:  summaryOf(sch.Extensions, sch.Title, sch.Description),
		required: required,
		internal: internal,
		hasDef:   sch.Default != nil,
		def:      sch.Default,
		notif:    isNotificationURL(sch.Extensions),
	}
	if key == "" {
		in.key = "body"
	}
	if sch.Type != nil && len(*sch.Type) > 0 {
		in.typ = (*sch.Type)[0]
	}
	if internal {
		w.internal = append(w.internal, in)
	}
	return w.b.resolve(in, w.callbackURL)
}

// properties merges an object's own properties with those of its allOf parts.
func (w *bodyWalker) properties(sch *openapi2.Schema) (map[string]*openapi2.SchemaRef, []string) {
	props := map[string]*openapi2.SchemaRef{}
	req := slices.Clone(sch.Required)
	for n, p := range sch.Properties {
		props[n] = p
	}
	for _, part := range sch.AllOf {
		if ps := w.def.schema(part); ps != nil {
			pp, pr := w.properties(ps)
			for n, p := range pp {
				if _, ok := props[n]; !ok {
					props[n] = p
				}
			}
			req = append(req, pr...)
		}
	}
	return props, req
}

func isInternal(ext map[string]any) bool { return extString(ext, "x-ms-visibility") == "internal" }

// convert turns a maker's text into the JSON value the input's type wants.
func convert(raw string, in *input) (any, error) {
	if in.in != "body" {
		return raw, nil // path, query and header values travel as text
	}
	bad := func(err error) error {
		return fmt.Errorf("flow: --param %s=%q: %s expects %s: %v", in.key, raw, in.label(), in.typ, err)
	}
	switch in.typ {
	case "integer":
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			return nil, bad(err)
		}
		return json.Number(raw), nil
	case "number":
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil, bad(err)
		}
		return json.Number(raw), nil
	case "boolean":
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case "array":
		if strings.HasPrefix(strings.TrimSpace(raw), "[") {
			var v []any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return nil, bad(err)
			}
			return v, nil
		}
		// A comma-separated list, as the designer's array input reads.
		var out []any
		for _, part := range strings.Split(raw, ",") {
			out = append(out, strings.TrimSpace(part))
		}
		return out, nil
	case "object":
		var v map[string]any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, bad(err)
		}
		return v, nil
	}
	return raw, nil
}

// marshal encodes JSON without Go's HTML escaping, so a callback URL's "&"
// reaches the publisher as "&", as the platform sends it, not "\u0026".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// paramText renders a non-body value.
func paramText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = paramText(e)
		}
		return strings.Join(parts, ",") // collectionFormat csv, Swagger's default
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
