package lint

import (
	"fmt"
	"slices"
	"strings"
)

// DocumentPrevious names the older definition in a [Diff] finding: the
// path of a removed operation, parameter or property is in that file.
const DocumentPrevious Document = "previous"

// Breaking-change rule names, reported by Diff.
const (
	ruleOperationRemoved          = "OperationRemoved"
	ruleOperationIDChanged        = "OperationIdChanged"
	ruleTriggerKindChanged        = "TriggerKindChanged"
	ruleTriggerCardinalityChanged = "TriggerCardinalityChanged"
	ruleParameterRemoved          = "ParameterRemoved"
	ruleParameterBecameRequired   = "ParameterBecameRequired"
	ruleRequiredParameterAdded    = "RequiredParameterAdded"
	ruleParameterTypeChanged      = "ParameterTypeChanged"
	rulePropertyRemoved           = "PropertyRemoved"
	rulePropertyTypeChanged       = "PropertyTypeChanged"
	ruleDeleteOperationChanged    = "DeleteOperationChanged"
	ruleSecurityDefinitionRemoved = "SecurityDefinitionRemoved"
)

// diffCatalogue lists the breaking changes Diff reports. Every one is an
// error: each breaks flows built on the older version, which is what the
// public repository's change validation refuses
// (https://github.com/microsoft/PowerPlatformConnectors, .pipelines/swagger_validation.yml,
// ValidateChange).
var diffCatalogue = []Rule{
	{ruleOperationRemoved, SeverityError, originTriggerd,
		`An operation of the previous version is gone: flows store operationIds, and every flow using it breaks.`},
	{ruleOperationIDChanged, SeverityError, originTriggerd,
		`The operation at the same method and path has a new operationId: to flows that is a removed operation.`},
	{ruleTriggerKindChanged, SeverityError, originTriggerd,
		`A trigger changed kind (webhook or polling): flows subscribed the old way stop firing.`},
	{ruleTriggerCardinalityChanged, SeverityError, originTriggerd,
		`A trigger changed x-ms-trigger between single and batch: flows read one item where they now get an array, or the reverse.`},
	{ruleParameterRemoved, SeverityError, originTriggerd,
		`A parameter (or a property of a body) of the previous version is gone or renamed: flows that set it send a value the API no longer reads.`},
	{ruleParameterBecameRequired, SeverityError, originTriggerd,
		`An optional parameter became required: flows that leave it empty fail.`},
	{ruleRequiredParameterAdded, SeverityError, originTriggerd,
		`A new required parameter: existing flows do not set it and fail.`},
	{ruleParameterTypeChanged, SeverityError, originTriggerd,
		`A parameter changed type or format: the values flows send no longer fit.`},
	{rulePropertyRemoved, SeverityError, originTriggerd,
		`A property of a response or notification schema is gone: flows that use it as dynamic content break.`},
	{rulePropertyTypeChanged, SeverityError, originTriggerd,
		`A property of a response or notification schema changed type: expressions over it break.`},
	{ruleDeleteOperationChanged, SeverityError, originTriggerd,
		`The DELETE operation a webhook trigger unsubscribes with changed or is gone: the platform deletes existing subscriptions through the Location URLs they were created with, which the new version no longer matches.`},
	{ruleSecurityDefinitionRemoved, SeverityError, originTriggerd,
		`A security definition is gone or changed type: existing connections authenticate with it.`},
}

// DiffRules returns every breaking-change rule Diff checks. The slice is a
// copy.
func DiffRules() []Rule { return slices.Clone(diffCatalogue) }

// Diff reports the changes from previous to current (two versions of an
// apiDefinition.swagger.json) that break flows built on previous: removed
// or renamed operations, triggers that changed kind, removed, newly
// required or retyped parameters, removed properties of response and
// notification schemas, a changed unsubscribe operation, removed security
// definitions. Operations are matched by operationId, as flows refer to
// them; a definition compared with itself or a reformatted copy has no
// findings. The error is non-nil only when either file is not a JSON
// object.
func Diff(previous, current []byte) (Result, error) {
	oldData, newData := trimBOM(previous), trimBOM(current)
	// The previous file is parsed as the second document of the run (the
	// one lint uses for apiProperties.json), so its findings sort after
	// the current file's and carry its positions.
	oldRoot, err := parseObject(oldData, docProperties)
	if err != nil {
		return Result{}, fmt.Errorf("lint: read previous definition: %w", err)
	}
	newRoot, err := parseObject(newData, docDefinition)
	if err != nil {
		return Result{}, fmt.Errorf("lint: read definition: %w", err)
	}
	d := &differ{old: newLinter(oldRoot, nil), cur: newLinter(newRoot, nil)}
	d.operations()
	d.security()
	findings := d.out.result(map[docID][]byte{docDefinition: newData, docProperties: oldData})
	for i := range findings {
		if findings[i].Document == DocumentProperties {
			findings[i].Document = DocumentPrevious
		}
	}
	return Result{Findings: findings}, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// differ compares two parsed definitions; its findings are collected in a
// linter (out) so that they sort and carry positions like lint's.
type differ struct {
	old, cur *linter
	out      linter
}

func (d *differ) report(rule string, n *node, format string, args ...any) {
	info := diffIndex[rule]
	doc := DocumentDefinition
	if n.doc == docProperties {
		doc = DocumentProperties // renamed to DocumentPrevious in Diff
	}
	d.out.found = append(d.out.found, located{
		Finding: Finding{Severity: info.Severity, Rule: rule, Document: doc, Path: n.path(), Message: fmt.Sprintf(format, args...)},
		order:   n.seq, offset: n.off,
	})
}

var diffIndex = func() map[string]Rule {
	m := make(map[string]Rule, len(diffCatalogue))
	for _, r := range diffCatalogue {
		m[r.Name] = r
	}
	return m
}()

func (d *differ) operations() {
	curByID := make(map[string]*operation)
	curByRoute := make(map[string]*operation)
	for _, o := range d.cur.ops {
		curByID[o.id()] = o
		curByRoute[o.method+" "+strings.ToLower(o.template)] = o
	}
	for _, o := range d.old.ops {
		if o.id() == "" {
			continue
		}
		n, ok := curByID[o.id()]
		if !ok {
			if moved := curByRoute[o.method+" "+strings.ToLower(o.template)]; moved != nil && moved.id() != "" {
				d.report(ruleOperationIDChanged, moved.op.get("operationId"),
					"The operation %s %s was '%s' and is now '%s'; flows that use '%s' break. Keep the operationId, and deprecate the old operation instead of renaming it.",
					strings.ToUpper(o.method), o.template, o.id(), moved.id(), o.id())
			} else {
				d.report(ruleOperationRemoved, o.op.get("operationId"),
					"The operation '%s' (%s %s) is gone; flows that use it break. Keep it, deprecated (x-ms-api-annotation, x-ms-visibility internal), instead of removing it.",
					o.id(), strings.ToUpper(o.method), o.template)
			}
			continue
		}
		d.operation(o, n)
	}
}

func (d *differ) operation(o, n *operation) {
	if kind := d.old.triggerKind(o); kind != "" {
		if nk := d.cur.triggerKind(n); nk != kind {
			d.report(ruleTriggerKindChanged, n.op, "The trigger '%s' was a %s trigger and is now %s.", o.id(), kind, kindText(nk))
		}
		if ov, nv := o.op.get("x-ms-trigger").text(), n.op.get("x-ms-trigger").text(); ov != "" && nv != "" && ov != nv {
			d.report(ruleTriggerCardinalityChanged, n.op.get("x-ms-trigger"), "The trigger '%s' was x-ms-trigger '%s' and is now '%s'.", o.id(), ov, nv)
		}
		if kind == "webhook" {
			d.deletePairing(o, n)
		}
	}
	d.parameters(o, n)
	// Outputs: the 2xx response schemas and the notification content.
	oldCodes, oldResps := d.old.responses(o)
	newCodes, newResps := d.cur.responses(n)
	for i, code := range oldCodes {
		if !isSuccessCode(code) {
			continue
		}
		if j := slices.Index(newCodes, code); j >= 0 {
			d.outputSchema(o.id(), oldResps[i].get("schema"), newResps[j].get("schema"))
		}
	}
	if oc, nc := o.notificationContent(), n.notificationContent(); oc != nil && nc != nil {
		d.outputSchema(o.id(), oc.get("schema"), nc.get("schema"))
	}
}

func kindText(k string) string {
	if k == "" {
		return "not a trigger"
	}
	return "a " + k + " trigger"
}

// triggerKind is "webhook", "polling" or "" for an action.
func (l *linter) triggerKind(o *operation) string {
	if l.callbacks == nil {
		l.callbacks, _ = l.findCallbacks()
	}
	cbs := l.callbacks
	switch {
	case l.isWebhookTrigger(o, cbs[o]):
		return "webhook"
	case l.isPollingTrigger(o):
		return "polling"
	}
	return ""
}

// parameters compares the inputs of a matched operation: non-body
// parameters by name and location, body properties by name, recursively.
func (d *differ) parameters(o, n *operation) {
	for _, op := range o.params {
		if op.in == "body" {
			continue
		}
		np, ok := findParam(n, op.name, op.in)
		if !ok {
			d.report(ruleParameterRemoved, op.n, "The %s parameter '%s' of '%s' is gone (or renamed).", op.in, op.name, o.id())
			continue
		}
		if !op.n.get("required").isTrue() && np.n.get("required").isTrue() {
			d.report(ruleParameterBecameRequired, np.n, "The %s parameter '%s' of '%s' became required.", op.in, op.name, o.id())
		}
		if ot, nt := typeText(op.n), typeText(np.n); ot != nt {
			d.report(ruleParameterTypeChanged, np.n, "The %s parameter '%s' of '%s' was %s and is now %s.", op.in, op.name, o.id(), ot, nt)
		}
	}
	for _, np := range n.params {
		if np.in == "body" || !np.n.get("required").isTrue() || np.n.has("default") {
			continue
		}
		if _, ok := findParam(o, np.name, np.in); !ok {
			d.report(ruleRequiredParameterAdded, np.n, "The operation '%s' has a new required %s parameter '%s' without a default.", o.id(), np.in, np.name)
		}
	}
	ob, nb := o.bodyParams(), n.bodyParams()
	if len(ob) == 1 && len(nb) == 1 {
		d.inputSchema(o.id(), ob[0].n.get("schema"), nb[0].n.get("schema"), 0, map[[2]*node]bool{})
	}
}

func findParam(o *operation, name, in string) (param, bool) {
	for _, p := range o.params {
		if p.name == name && p.in == in {
			return p, true
		}
	}
	return param{}, false
}

// typeText is a parameter's or schema's type and format, for comparing.
func typeText(n *node) string {
	t := n.get("type").text()
	if t == "" {
		t = "untyped"
	}
	if f := n.get("format").text(); f != "" {
		t += " (" + f + ")"
	}
	return t
}

// maxDiffDepth bounds the parallel walk of two schemas.
const maxDiffDepth = 32

// inputSchema compares a body schema: a removed property, one that became
// required, or one whose type changed breaks flows that set it.
func (d *differ) inputSchema(opID string, os, ns *node, depth int, seen map[[2]*node]bool) {
	os, ns = d.old.resolveSchema(os), d.cur.resolveSchema(ns)
	if os == nil || ns == nil || depth > maxDiffDepth || seen[[2]*node{os, ns}] {
		return
	}
	seen[[2]*node{os, ns}] = true
	oldReq, newReq := requiredNames(os), requiredNames(ns)
	os.get("properties").members(func(name string, op *node) {
		np := ns.get("properties").get(name)
		if np == nil {
			if !ns.get("properties").isObject() && ns.get("x-ms-dynamic-schema") != nil {
				return // the body became dynamic; its shape is decided at run time
			}
			d.report(ruleParameterRemoved, op, "The body property '%s' of '%s' is gone (or renamed).", name, opID)
			return
		}
		if !slices.Contains(oldReq, name) && slices.Contains(newReq, name) {
			d.report(ruleParameterBecameRequired, np, "The body property '%s' of '%s' became required.", name, opID)
		}
		ro, rn := d.old.resolveSchema(op), d.cur.resolveSchema(np)
		if ro != nil && rn != nil && ro.has("type") && rn.has("type") && typeText(ro) != typeText(rn) {
			d.report(ruleParameterTypeChanged, np, "The body property '%s' of '%s' was %s and is now %s.", name, opID, typeText(ro), typeText(rn))
			return
		}
		d.inputSchema(opID, op, np, depth+1, seen)
	})
	for _, name := range newReq {
		if !slices.Contains(oldReq, name) && !os.get("properties").has(name) && ns.get("properties").has(name) && !ns.get("properties").get(name).has("default") {
			d.report(ruleRequiredParameterAdded, ns.get("properties").get(name), "The body of '%s' has a new required property '%s' without a default.", opID, name)
		}
	}
	if oi, ni := os.get("items"), ns.get("items"); oi.isObject() && ni.isObject() {
		d.inputSchema(opID, oi, ni, depth+1, seen)
	}
}

// outputSchema compares a response or notification schema: a removed
// property or a changed type breaks flows that use it.
func (d *differ) outputSchema(opID string, os, ns *node) {
	d.walkOutput(opID, os, ns, 0, map[[2]*node]bool{})
}

func (d *differ) walkOutput(opID string, os, ns *node, depth int, seen map[[2]*node]bool) {
	os, ns = d.old.resolveSchema(os), d.cur.resolveSchema(ns)
	if os == nil || ns == nil || depth > maxDiffDepth || seen[[2]*node{os, ns}] {
		return
	}
	seen[[2]*node{os, ns}] = true
	if ns.get("x-ms-dynamic-schema") != nil || ns.get("x-ms-dynamic-properties") != nil {
		return
	}
	os.get("properties").members(func(name string, op *node) {
		np := ns.get("properties").get(name)
		if np == nil {
			d.report(rulePropertyRemoved, op, "The output property '%s' of '%s' is gone (or renamed); flows that use it break.", name, opID)
			return
		}
		ro, rn := d.old.resolveSchema(op), d.cur.resolveSchema(np)
		if ro != nil && rn != nil && ro.has("type") && rn.has("type") && ro.get("type").text() != rn.get("type").text() {
			d.report(rulePropertyTypeChanged, np, "The output property '%s' of '%s' was %s and is now %s.", name, opID, ro.get("type").text(), rn.get("type").text())
			return
		}
		d.walkOutput(opID, op, np, depth+1, seen)
	})
	if oi, ni := os.get("items"), ns.get("items"); oi.isObject() && ni.isObject() {
		d.walkOutput(opID, oi, ni, depth+1, seen)
	}
}

// deletePairing compares the DELETE each version pairs with a webhook
// trigger (see webhookDeleteRules): subscriptions made with the previous
// version are deleted through their Location URLs, which must still match.
func (d *differ) deletePairing(o, n *operation) {
	od := d.old.pairedDelete(o)
	if od == nil {
		return
	}
	nd := d.cur.pairedDelete(n)
	switch {
	case nd == nil:
		d.report(ruleDeleteOperationChanged, n.op,
			"The webhook trigger '%s' unsubscribed with DELETE %s ('%s'), which no DELETE of this version matches: subscriptions made before cannot be deleted.",
			o.id(), od.template, od.label())
	case !templatesMatch(od.template, nd.template):
		d.report(ruleDeleteOperationChanged, nd.op,
			"The webhook trigger '%s' unsubscribed with DELETE %s and now with DELETE %s: the Location URLs of existing subscriptions name the old path. Keep the old DELETE as well.",
			o.id(), od.template, nd.template)
	}
}

// security reports removed or retyped security definitions.
func (d *differ) security() {
	cur := d.cur.root.get("securityDefinitions")
	d.old.root.get("securityDefinitions").members(func(name string, def *node) {
		nd := cur.get(name)
		switch {
		case nd == nil:
			d.report(ruleSecurityDefinitionRemoved, def, "The security definition '%s' is gone; existing connections use it.", name)
		case def.get("type").text() != nd.get("type").text():
			d.report(ruleSecurityDefinitionRemoved, nd.get("type"), "The security definition '%s' was of type '%s' and is now '%s'; existing connections cannot authenticate.",
				name, def.get("type").text(), nd.get("type").text())
		}
	})
}
