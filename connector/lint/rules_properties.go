package lint

import (
	"fmt"
	"slices"
	"strings"
)

// policyOperationNames is the policy parameter listing the operationIds a
// policy applies to; empty or absent means every operation
// (https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json).
const policyOperationNames = "x-ms-apimTemplate-operationName"

// propertiesRules cross-checks apiProperties.json with the definition.
func (l *linter) propertiesRules() {
	if l.props == nil {
		return
	}
	props := l.props.get("properties")
	ids := make(map[string]bool)
	for _, o := range l.ops {
		ids[o.id()] = true
	}
	for _, inst := range props.get("policyTemplateInstances").elems() {
		for _, name := range inst.get("parameters").get(policyOperationNames).elems() {
			if name.isString() && !ids[name.str] {
				l.report(ruleOperationIDNotFound, name,
					"The 'operationId' could not be found in this swagger document. (Policy '%s' names '%s'.)",
					inst.get("templateId").text(), name.str)
			}
		}
	}
	hasTrigger := false
	for _, o := range l.ops {
		hasTrigger = hasTrigger || o.isTrigger()
	}
	if hasTrigger && props.isObject() && !slices.Contains(props.get("capabilities").strings(), "triggers") {
		l.reportMissing(ruleCapabilitiesMissingTrigger, props, "capabilities",
			`The definition has triggers but "capabilities" does not list "triggers"; the Logic Apps designer may then not show them by default. Power Automate does not need it.`)
	}
}

// pollingPolicyCovers reports whether apiProperties.json has a pollingtrigger
// policy that applies to o (the platform then keeps the polling state, https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
func (l *linter) pollingPolicyCovers(o *operation) bool {
	for _, inst := range l.props.get("properties").get("policyTemplateInstances").elems() {
		if !strings.EqualFold(inst.get("templateId").text(), "pollingtrigger") {
			continue
		}
		names := inst.get("parameters").get(policyOperationNames)
		if len(names.elems()) == 0 || slices.Contains(names.strings(), o.id()) {
			return true
		}
	}
	return false
}

// schemaFindings validates both documents against Microsoft's JSON Schemas.
// A member the schema does not allow is reported at the member itself, and
// a missing required member at where it should be, so that the finding's
// path says exactly what to change.
func (l *linter) schemaFindings(s *schemaSet) {
	l.schemaDocument(s.definition, l.root, ruleSchemaViolation, ruleSchemaPropertyNotAllowed, "apiDefinition.swagger.schema.json")
	if l.props != nil {
		l.schemaDocument(s.properties, l.props, ruleAPIPropertiesSchemaViolation, ruleAPIPropertiesSchemaPropertyNotAllowed, "paconn-apiProperties.schema.json")
	}
}

func (l *linter) schemaDocument(sch schemaValidator, root *node, ruleViolation, ruleNotAllowed, schemaName string) {
	for _, v := range validateSchema(sch, root.toAny()) {
		n, done := root.at(v.instance)
		if done < len(v.instance) {
			l.reportAt(ruleViolation, n, pointerToPath(root, v.instance), "%s", v.message)
			continue
		}
		switch {
		case len(v.notAllowed) > 0:
			for _, name := range v.notAllowed {
				child := n.get(name)
				if child == nil {
					child = n
				}
				l.reportAt(ruleNotAllowed, child, childPath(n.path(), name),
					"The property '%s' is not allowed here by %s.", name, schemaName)
			}
		case len(v.missing) > 0:
			for _, name := range v.missing {
				l.reportAt(ruleViolation, n, childPath(n.path(), name),
					"The '%s' property is required.", name)
			}
		default:
			l.reportAt(ruleViolation, n, n.path(), "%s", v.message)
		}
	}
}

// String makes schemaViolation readable in test failures.
func (v schemaViolation) String() string {
	return fmt.Sprintf("/%s: %s", strings.Join(v.instance, "/"), v.message)
}

// hasPolicy reports whether apiProperties.json has a policy of the template.
func (l *linter) hasPolicy(templateID string) bool {
	for _, inst := range l.props.get("properties").get("policyTemplateInstances").elems() {
		if strings.EqualFold(inst.get("templateId").text(), templateID) {
			return true
		}
	}
	return false
}
