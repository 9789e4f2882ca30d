package flow

import (
	"context"
	"fmt"
	"strings"
)

// dynErr is why a dynamic schema could not be resolved, graded as the
// platform would feel it.
type dynErr struct {
	severity Severity
	code     string
	msg      string
}

// dynamicSchema resolves x-ms-dynamic-schema the way the designer does: it
// calls the named operation with the given parameters (a literal, or
// {"parameter": NAME} for the value of one of the trigger's own inputs) and
// takes the schema at value-path of the answer
// (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions#use-dynamic-schema).
// A save in the cloud designer fails with "does not contain a valid OpenAPI
// schema object" when this goes wrong (weng5e/flow-connector-trigger#1), so
// a failing call or an answer without a schema is an Error.
func (s *session) dynamicSchema(ctx context.Context, dyn map[string]any) (any, string, *dynErr) {
	opID, _ := dyn["operationId"].(string)
	unresolved := func(format string, args ...any) *dynErr {
		return &dynErr{Warning, "dynamic-schema-unresolved",
			"the notification schema is x-ms-dynamic-schema (operation " + opID + ") and " + fmt.Sprintf(format, args...) +
				"; notifications are NOT checked against any schema"}
	}
	if opID == "" {
		return nil, "", unresolved("names no operationId")
	}
	var found *operation
	for _, o := range s.def.operations() {
		if o.op.OperationID == opID {
			found = &o
			break
		}
	}
	if found == nil {
		return nil, "", unresolved("the definition has no operation %q", opID)
	}
	values := map[string]string{}
	params, _ := dyn["parameters"].(map[string]any)
	for name, v := range params {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["parameter"].(string); ok {
				val, ok := s.inputValue(ref)
				if !ok {
					return nil, "", unresolved("its parameter %q takes the trigger's input %q, which has no value: pass --param %s=VALUE", name, ref, ref)
				}
				values[name] = val
			} else if lit, ok := x["value"]; ok {
				values[name] = paramText(lit)
			}
		default:
			values[name] = paramText(x)
		}
	}
	item := s.def.doc.Paths[found.path]
	opParams, err := s.def.parameters(item, found.op)
	if err != nil {
		return nil, "", unresolved("its parameters cannot be read: %v", err)
	}
	c, err := s.buildCall(found.op, found.path, found.method, opParams, "", values)
	if err != nil {
		return nil, "", unresolved("cannot be called: %v", err)
	}
	s.out.note("resolving the notification schema: x-ms-dynamic-schema calls %s, as the designer does", opID)
	resp, err := s.send(ctx, c.method, c.url, c.header, c.body, true)
	if err != nil {
		return nil, "", &dynErr{Error, "dynamic-schema-failed",
			fmt.Sprintf("the dynamic-schema operation %s failed: %v. The designer could not build the trigger's outputs and saving the flow fails; notifications are NOT checked", opID, err)}
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, "", &dynErr{Error, "dynamic-schema-failed",
			fmt.Sprintf("the dynamic-schema operation %s answered %s: %s. The designer could not build the trigger's outputs and saving the flow fails; notifications are NOT checked", opID, resp.text, excerpt(resp.body))}
	}
	doc, err := decodeJSON(resp.body)
	if err != nil {
		return nil, "", &dynErr{Error, "dynamic-schema-invalid",
			fmt.Sprintf("the dynamic-schema operation %s answered %s with a body that is not JSON (%v); the designer reports that it \"does not contain a valid OpenAPI schema object\" and saving the flow fails. Notifications are NOT checked", opID, resp.text, err)}
	}
	path, _ := dyn["value-path"].(string)
	schema := doc
	if path != "" {
		for _, k := range strings.Split(path, "/") {
			m, ok := schema.(map[string]any)
			if !ok {
				schema = nil
				break
			}
			schema = m[k]
		}
	}
	if _, ok := schema.(map[string]any); !ok {
		return nil, "", &dynErr{Error, "dynamic-schema-invalid",
			fmt.Sprintf("the dynamic-schema operation %s answered without a schema object at value-path %q: %s. The designer reports that it \"does not contain a valid OpenAPI schema object\" and saving the flow fails. Notifications are NOT checked", opID, path, excerpt(resp.body))}
	}
	return schema, "notification schema returned by " + opID + " (x-ms-dynamic-schema)", nil
}

// inputValue is the value the trigger's input name will have: the maker's
// --param (plain or qualified), else its default.
func (s *session) inputValue(name string) (string, bool) {
	if v, ok := s.cfg.Params[name]; ok {
		return v, true
	}
	for _, p := range s.t.params {
		if p.Name != name {
			continue
		}
		if v, ok := s.cfg.Params[p.In+":"+name]; ok {
			return v, true
		}
		if p.Default != nil {
			return paramText(p.Default), true
		}
	}
	return "", false
}
