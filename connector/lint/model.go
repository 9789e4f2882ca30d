package lint

import (
	"net/url"
	"slices"
	"strings"
)

// linter holds one run: the parsed documents, what the rules derived from
// them, and the findings so far.
type linter struct {
	root  *node // apiDefinition.swagger.json
	props *node // apiProperties.json, or nil

	ops   []*operation
	found []located

	mimeSeen  map[string]bool           // MIME types MimeTypeNotSupported reported
	callbacks map[*operation][]callback // notification-URL properties, once found (Diff)
}

// operation is one operation of the definition with what the rules need
// about it resolved once.
type operation struct {
	template string // the path key, like /webhooks/{id}
	method   string // lower case, as in the file
	item     *node  // the path item
	op       *node  // the operation object
	params   []param
}

// param is an effective parameter of an operation: path-item parameters,
// overridden by operation parameters of the same name and location, with
// $refs resolved.
type param struct {
	n    *node // the parameter object
	name string
	in   string
}

// httpMethods are the operation keys of a Swagger 2.0 path item, in the
// order the specification lists them.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

func newLinter(root, props *node) *linter {
	l := &linter{root: root, props: props}
	l.root.get("paths").members(func(template string, item *node) {
		if !item.isObject() {
			return
		}
		// Operations come in document order, so findings do too.
		item.members(func(method string, op *node) {
			if !isHTTPMethod(method) || !op.isObject() {
				return
			}
			o := &operation{template: template, method: method, item: item, op: op}
			o.params = l.effectiveParams(item.get("parameters"), op.get("parameters"))
			l.ops = append(l.ops, o)
		})
	})
	return l
}

func isHTTPMethod(s string) bool { return slices.Contains(httpMethods, s) }

// id returns the operationId, or "" when it is missing or not a string.
func (o *operation) id() string { return o.op.get("operationId").text() }

// label names the operation in messages: its operationId, or METHOD path.
func (o *operation) label() string {
	if id := o.id(); id != "" {
		return id
	}
	return strings.ToUpper(o.method) + " " + o.template
}

// isTrigger reports whether the operation declares x-ms-trigger at all.
func (o *operation) isTrigger() bool { return o.op.has("x-ms-trigger") }

// internal reports whether the operation is hidden from makers.
func (o *operation) internal() bool { return isInternal(o.op) }

// bodyParams returns the operation's body parameters.
func (o *operation) bodyParams() []param {
	var out []param
	for _, p := range o.params {
		if p.in == "body" {
			out = append(out, p)
		}
	}
	return out
}

// pathVariables returns the {names} of the operation's path template.
func (o *operation) pathVariables() []string { return templateVariables(o.template) }

// templateVariables returns the {names} in a path template, in order.
func templateVariables(template string) []string {
	var out []string
	for rest := template; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, rest[i+1:i+j])
		rest = rest[i+j+1:]
	}
}

func (l *linter) effectiveParams(itemParams, opParams *node) []param {
	var out []param
	add := func(list *node, override bool) {
		for _, entry := range list.elems() {
			n := l.resolveParam(entry)
			if n == nil {
				continue
			}
			p := param{n: n, name: n.get("name").text(), in: n.get("in").text()}
			if override {
				replaced := false
				for i := range out {
					if out[i].name == p.name && out[i].in == p.in {
						out[i], replaced = p, true
					}
				}
				if replaced {
					continue
				}
			}
			out = append(out, p)
		}
	}
	add(itemParams, false)
	add(opParams, true)
	return out
}

// resolveParam follows a parameter's $ref (reporting a bad one) and returns
// the parameter object, or nil.
func (l *linter) resolveParam(entry *node) *node {
	ref := entry.get("$ref")
	if ref == nil {
		if entry.isObject() {
			return entry
		}
		return nil
	}
	target, ok := l.followRef(ref, "#/parameters/", ruleParameterReferenceNotValid, ruleParameterReferenceNotFound,
		"The parameter reference '%s' is not valid. Parameter references must start with '#/parameters/' and be valid JSON Pointers.",
		"The parameter reference '%s' could not be found in the swagger document.")
	if !ok || !target.isObject() {
		return nil
	}
	return target
}

// resolveResponse follows a response's $ref (reporting a bad one).
func (l *linter) resolveResponse(entry *node) *node {
	ref := entry.get("$ref")
	if ref == nil {
		if entry.isObject() {
			return entry
		}
		return nil
	}
	target, ok := l.followRef(ref, "#/responses/", ruleResponseReferenceNotValid, ruleResponseReferenceNotFound,
		"The response reference '%s' is not valid. Response references must start with '#/responses/' and be valid JSON Pointers.",
		"The response reference '%s' could not be found in the swagger document.")
	if !ok || !target.isObject() {
		return nil
	}
	return target
}

// followRef resolves the $ref member ref, which must start with prefix.
func (l *linter) followRef(ref *node, prefix, ruleInvalid, ruleNotFound, msgInvalid, msgNotFound string) (*node, bool) {
	s := ref.text()
	if !ref.isString() || !strings.HasPrefix(s, prefix) || len(s) == len(prefix) {
		l.report(ruleInvalid, ref, msgInvalid, refText(ref))
		return nil, false
	}
	target := l.pointer(s)
	if target == nil {
		l.report(ruleNotFound, ref, msgNotFound, s)
		return nil, false
	}
	return target, true
}

func refText(ref *node) string {
	if ref.isString() {
		return ref.str
	}
	return "(a JSON " + ref.kindName() + ")"
}

// pointer resolves a local JSON Reference like #/definitions/Order. Tokens
// are JSON Pointer-unescaped; a token that does not match as written is
// tried percent-decoded too, since a $ref is a URI fragment.
func (l *linter) pointer(ref string) *node {
	if !strings.HasPrefix(ref, "#") {
		return nil // only local references exist in a connector definition
	}
	frag := ref[1:]
	if frag == "" {
		return l.root
	}
	if !strings.HasPrefix(frag, "/") {
		return nil
	}
	cur := l.root
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		next, n := cur.at([]string{tok})
		if n == 0 {
			dec, err := url.PathUnescape(tok)
			if err != nil {
				return nil
			}
			if next, n = cur.at([]string{dec}); n == 0 {
				return nil
			}
		}
		cur = next
	}
	return cur
}

// maxRefHops bounds chains of $ref to $ref (a loop is otherwise endless).
const maxRefHops = 32

// resolveSchema follows a schema's $ref chain and returns the schema it
// names, or nil when a reference does not resolve (reported by
// checkSchemaRefs, which sees every schema once).
func (l *linter) resolveSchema(s *node) *node {
	for range maxRefHops {
		ref := s.get("$ref")
		if ref == nil {
			return s
		}
		if !ref.isString() || !strings.HasPrefix(ref.str, "#/definitions/") {
			return nil
		}
		if s = l.pointer(ref.str); s == nil {
			return nil
		}
	}
	return nil
}

// maxSchemaDepth bounds how deep the rules follow a schema (through $refs);
// it is far beyond real definitions (the validator's own SchemaTooDeep limit
// is lower) and keeps recursive definitions finite.
const maxSchemaDepth = 64

// schemaStep is one edge of a walk through a schema: from an object schema
// to one of its properties, or from an array schema to its items.
type schemaStep struct {
	parent *node  // the (resolved) schema holding the child
	name   string // property name; "" for array items and composition
	decl   *node  // the child as written (maybe a $ref object)
	child  *node  // the child, resolved
}

// walkSchema calls visit for s and every schema below it, following $refs,
// properties, items, additionalProperties and allOf. chain is the path of
// steps from s to the visited schema (empty for s itself). Each resolved
// schema is visited once per walk, which keeps recursive and heavily shared
// definitions linear.
func (l *linter) walkSchema(s *node, visit func(n *node, chain []schemaStep)) {
	start := l.resolveSchema(s)
	if start == nil || !start.isObject() {
		return
	}
	seen := map[*node]bool{start: true}
	var walk func(n *node, chain []schemaStep)
	walk = func(n *node, chain []schemaStep) {
		visit(n, chain)
		if len(chain) >= maxSchemaDepth {
			return
		}
		step := func(name string, decl *node) {
			child := l.resolveSchema(decl)
			if child == nil || !child.isObject() || seen[child] {
				return
			}
			seen[child] = true
			walk(child, append(chain[:len(chain):len(chain)], schemaStep{parent: n, name: name, decl: decl, child: child}))
		}
		n.get("properties").members(func(name string, decl *node) { step(name, decl) })
		if items := n.get("items"); items.isArray() {
			for _, e := range items.items {
				step("", e)
			}
		} else if items != nil {
			step("", items)
		}
		if ap := n.get("additionalProperties"); ap.isObject() {
			step("", ap)
		}
		for _, e := range n.get("allOf").elems() {
			step("", e)
		}
	}
	walk(start, nil)
}

// requiredNames returns the names in a schema's "required" array.
func requiredNames(s *node) []string { return s.get("required").strings() }

// hasHeader reports whether a response declares a header (any case).
func hasHeader(resp *node, name string) bool {
	for _, h := range resp.get("headers").memberNames() {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// responses returns the operation's responses (resolved) by status key, in
// document order.
func (l *linter) responses(o *operation) (codes []string, resps []*node) {
	o.op.get("responses").members(func(code string, r *node) {
		if strings.HasPrefix(code, "x-") {
			return
		}
		if res := l.resolveResponse(r); res != nil {
			codes = append(codes, code)
			resps = append(resps, res)
		}
	})
	return codes, resps
}

// notificationContent returns the x-ms-notification-content that applies to
// an operation: the path item's, or else one misplaced in the operation.
func (o *operation) notificationContent() *node {
	if nc := o.item.get("x-ms-notification-content"); nc != nil {
		return nc
	}
	return o.op.get("x-ms-notification-content")
}
