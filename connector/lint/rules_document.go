package lint

import (
	"strings"

	"github.com/triggerd/triggerd/internal/platform"
)

// run applies every rule except the schema validation.
func (l *linter) run() {
	l.documentRules()
	l.securityRules()
	l.schemaReferenceRules()
	l.operationRules()
	l.triggerRules()
	l.propertiesRules()
	l.validatorRules()
}

func (l *linter) documentRules() {
	root := l.root
	if v := root.get("swagger"); !v.isString() || v.str != "2.0" {
		l.reportMissing(ruleSpecificationVersionIncorrect, root, "swagger",
			`The 'swagger' property must have the string value "2.0".`)
	}
	// A dynamichosturl policy replaces the host at run time, so a
	// placeholder there is what certified connectors (JotForm Enterprise)
	// ship.
	if v := root.get("host"); v != nil && (!v.isString() || !platform.ValidHost(v.str)) && !l.hasPolicy("dynamichosturl") {
		l.report(ruleHostNameNotValid, v,
			"The 'host' property, if present, must be a valid URI host without a scheme or path.")
	}
	if v := root.get("basePath"); v != nil && (!v.isString() || !strings.HasPrefix(v.str, "/")) {
		l.report(ruleBasePathNotValid, v,
			"The 'basePath' property, if present, must start with a '/' character.")
	}
	if v := root.get("schemes"); v.isArray() {
		if len(v.items) == 0 {
			l.report(ruleSchemesArrayEmpty, v, "The 'schemes' array requires at least one value.")
		}
		for _, s := range v.items {
			switch s.text() {
			case "http", "https":
			case "ws", "wss":
				l.report(ruleSchemeNotSupported, s, "The WebSocket transfer protocol schemes are not supported.")
			default:
				l.report(ruleSchemeNotValid, s,
					"The 'schemes' property must only contain transfer protocols from the list: http, https.")
			}
		}
	}
	if len(l.ops) > platform.MaxOperations {
		l.report(ruleTotalOperationsCountExceedsMaxAllowed, root.get("paths"),
			"The total number of operations in the swagger exceeds the maximum allowed value of '%d'. (It has %d.)",
			platform.MaxOperations, len(l.ops))
	}
}

// securityRules checks that security requirements name declared schemes:
// an undeclared one means requests, including the platform's webhook DELETE,
// carry no credentials.
func (l *linter) securityRules() {
	defs := l.root.get("securityDefinitions")
	check := func(security *node) {
		for _, req := range security.elems() {
			req.members(func(name string, v *node) {
				if !defs.has(name) {
					l.report(ruleSecurityRequirementMustBeDefined, v,
						"The security requirement '%s' is not defined in the 'securityDefinitions' object.", name)
				}
			})
		}
	}
	check(l.root.get("security"))
	for _, o := range l.ops {
		check(o.op.get("security"))
	}
}

// schemaReferenceRules checks every schema $ref once, where it is written:
// definitions, parameter and response definitions, and everything under
// paths. Rules that follow references (resolveSchema) then skip bad ones
// silently.
func (l *linter) schemaReferenceRules() {
	l.eachSchema(func(s *node) {
		ref := s.get("$ref")
		if ref == nil || ref.isObject() {
			// An object-valued "$ref" is a property named $ref inside
			// "properties", not a reference.
			return
		}
		if !ref.isString() || !strings.HasPrefix(ref.str, "#/definitions/") || ref.str == "#/definitions/" {
			l.report(ruleSchemaReferenceNotValid, ref,
				"The schema reference '%s' is not valid. Schema references must start with '#/definitions/' and be valid JSON Pointers.",
				refText(ref))
			return
		}
		if l.pointer(ref.str) == nil {
			l.report(ruleSchemaReferenceNotFound, ref,
				"The schema reference '%s' could not be found in the swagger document.", ref.str)
		}
	})
}

// eachSchema calls fn for every schema object as written in the document
// (without following references), each once.
func (l *linter) eachSchema(fn func(s *node)) {
	var walk func(s *node, depth int)
	walk = func(s *node, depth int) {
		if !s.isObject() || depth > maxDepth {
			return
		}
		fn(s)
		s.get("properties").members(func(_ string, p *node) { walk(p, depth+1) })
		if items := s.get("items"); items.isArray() {
			for _, e := range items.items {
				walk(e, depth+1)
			}
		} else {
			walk(items, depth+1)
		}
		walk(s.get("additionalProperties"), depth+1)
		for _, key := range []string{"allOf", "anyOf", "oneOf"} {
			for _, e := range s.get(key).elems() {
				walk(e, depth+1)
			}
		}
		walk(s.get("not"), depth+1)
	}
	paramSchemas := func(list *node) {
		for _, p := range list.elems() {
			walk(p.get("schema"), 0)
		}
	}
	responseSchemas := func(responses *node) {
		responses.members(func(_ string, r *node) { walk(r.get("schema"), 0) })
	}
	l.root.get("definitions").members(func(_ string, s *node) { walk(s, 0) })
	l.root.get("parameters").members(func(_ string, p *node) { walk(p.get("schema"), 0) })
	responseSchemas(l.root.get("responses"))
	l.root.get("paths").members(func(_ string, item *node) {
		walk(item.get("x-ms-notification-content").get("schema"), 0)
		paramSchemas(item.get("parameters"))
		item.members(func(method string, op *node) {
			if !isHTTPMethod(method) {
				return
			}
			walk(op.get("x-ms-notification-content").get("schema"), 0)
			paramSchemas(op.get("parameters"))
			responseSchemas(op.get("responses"))
		})
	})
}
