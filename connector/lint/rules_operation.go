package lint

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/triggerd/triggerd/internal/platform"
)

func (l *linter) operationRules() {
	firstByID := make(map[string]*operation)
	for _, o := range l.ops {
		l.operationIDRules(o, firstByID)
		l.summaryRules(o)
		l.responseRules(o)
		l.parameterRules(o)
	}
}

func (l *linter) operationIDRules(o *operation, firstByID map[string]*operation) {
	id := o.id()
	if id == "" {
		l.reportMissing(ruleOperationIDRequired, o.op, "operationId",
			"The operation 'operationId' property is required.")
		return
	}
	idNode := o.op.get("operationId")
	// The platform's operation names are case-insensitive (they become API
	// Management operations), so OrderCreated and orderCreated collide.
	if first, dup := firstByID[strings.ToLower(id)]; dup {
		l.report(ruleOperationIDNotUnique, idNode,
			"The operationId '%s' is used multiple times. Operation identifiers must be unique. (%s %s has the operationId '%s'; letter case does not tell them apart.)",
			id, strings.ToUpper(first.method), first.template, first.id())
	} else {
		firstByID[strings.ToLower(id)] = o
	}
	if s := platform.SanitizeOperationID(id); s != id {
		l.report(ruleOperationIDSanitized, idNode,
			"The 'operationId' property value is different from its sanitized value '%s'. Please avoid the useage of non-alphanumeric characters to have matching values.",
			s)
	}
}

func (l *linter) summaryRules(o *operation) {
	summary := o.op.get("summary")
	if !summary.isString() {
		return
	}
	if n := utf8.RuneCountInString(summary.str); n > platform.SummaryMaxLen {
		l.report(ruleOperationSummaryTooLong, summary,
			"The operation 'summary' should be fewer than %d characters for improved readablity. (It has %d; certification accepts at most %d.)",
			platform.SummaryMaxLen+1, n, platform.SummaryMaxLen)
	}
	if platform.HasRestrictedSummaryChar(summary.str) {
		l.report(ruleRestrictedCharactersInSummary, summary,
			"Summary string contains any of the restricted characters [%s]", platform.RestrictedSummaryChars)
	}
}

func (l *linter) responseRules(o *operation) {
	codes, resps := l.responses(o)
	if len(codes) == 0 {
		l.reportMissing(ruleOperationMustHaveResponse, o.op, "responses",
			"The operation is not valid, it must contain at least one response definition.")
		return
	}
	success := false
	for i, code := range codes {
		if isSuccessCode(code) {
			success = true
		}
		if code == "default" {
			if s := resps[i].get("schema"); s != nil && !(s.isObject() && len(s.keys) == 0) {
				l.report(ruleDefaultResponseHasSchema, s,
					"The 'default' response should not have schema definition. Schemas should be defined on expected responses only.")
			}
		}
	}
	if !success {
		l.report(ruleOperationShouldHaveSuccessfulResponse, o.op.get("responses"),
			"The operation '%s' should have at least one successful response definition.", o.label())
	}
}

// isSuccessCode reports whether a response key is a 2xx status (or the
// 2XX range form).
func isSuccessCode(code string) bool {
	return len(code) == 3 && code[0] == '2' &&
		(code[1] >= '0' && code[1] <= '9' || code[1] == 'X' || code[1] == 'x') &&
		(code[2] >= '0' && code[2] <= '9' || code[2] == 'X' || code[2] == 'x')
}

func (l *linter) parameterRules(o *operation) {
	vars := o.pathVariables()
	fetch := o.method == "get" || o.method == "head"
	bodies := 0
	declared := make(map[string]bool)
	for _, p := range o.params {
		switch p.in {
		case "body":
			bodies++
			if bodies == 2 {
				l.report(ruleOperationParametersContainMultipleBodyParm, p.n,
					"The operation '%s' contains multiple parameters in the location 'body', at most one is allowed.", o.label())
			}
			if fetch {
				l.report(ruleBodyOrFormDataParameterInFetchOperation, p.n,
					"Body or form data parameters are not supported in a fetch operation.")
			}
			l.bodyPropertyRules(p)
		case "formData":
			if fetch {
				l.report(ruleBodyOrFormDataParameterInFetchOperation, p.n,
					"Body or form data parameters are not supported in a fetch operation.")
			}
		case "path":
			declared[p.name] = true
			if !slices.Contains(vars, p.name) {
				l.report(rulePathParameterNotDefinedInTemplate, p.n,
					"The 'path' parameter '%s' is not defined in the URI path template. To include the parameter as a variable in the path, use '{' and '}' characters to enclose the name of the parameter in the path.",
					p.name)
			}
			if !p.n.get("required").isTrue() {
				l.reportMissing(rulePathParameterMustBeRequired, p.n, "required",
					"The parameter must be marked as required as it is used in the operation path. Include the 'required' property, with the value 'true'.")
			}
			if !p.n.has("x-ms-url-encoding") {
				l.report(rulePathParameterMissingEncoding, p.n,
					`Encoding for path parameter '%s' is missing, which might lead to invalid requests. Use "x-ms-url-encoding": "single" to ensure the value is URL encoded.`,
					p.name)
			}
		}
		if strings.EqualFold(p.name, "connectionId") {
			l.report(ruleConnectionIDParameterNotAllowed, p.n.get("name"),
				"A parameter cannot be named as 'connectionId'.")
		}
		if p.in != "body" && isInternal(p.n) && p.n.has("default") && !p.n.get("required").isTrue() {
			l.report(ruleInternalPropertyWithDefaultOptional, p.n,
				"The internal property has a default value but is optional. Only required properties are guaranteed to be included in requests. (Parameter '%s'.)",
				p.name)
		}
	}
	for _, v := range vars {
		if !declared[v] {
			l.report(ruleOperationMissingPathParameter, o.op,
				"The operation '%s' does not define the '%s' parameter which is required by the path.", o.label(), v)
		}
	}
}

// bodyPropertyRules checks the properties of a body parameter's schema:
// internal ones with a default must be required, or the designer leaves
// them out (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger: this is how a webhook
// registration carries a fixed event type).
func (l *linter) bodyPropertyRules(p param) {
	l.walkSchema(p.n.get("schema"), func(_ *node, chain []schemaStep) {
		if len(chain) == 0 {
			return
		}
		st := chain[len(chain)-1]
		if st.name == "" || !isInternal(st.child) || !st.child.has("default") {
			return
		}
		if !slices.Contains(requiredNames(st.parent), st.name) {
			l.report(rulePropertyMustBeRequired, st.decl,
				"The property is internal and has a default value, it must be required. Optional internal fields are ignored. (Add '%s' to the 'required' list of its object.)",
				st.name)
		}
	})
}

func isInternal(n *node) bool { return n.get("x-ms-visibility").text() == "internal" }
