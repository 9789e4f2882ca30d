package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/publish"
)

// RequestError is a request that cannot be understood; Status is 400 for
// malformed JSON and 422 for well-formed JSON that breaks a rule.
type RequestError struct {
	Status  int
	Code    string
	Message string
}

func (e *RequestError) Error() string { return e.Message }

func badJSON(err error) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Code: "invalid_json", Message: "the body is not valid JSON: " + err.Error()}
}

func invalid(format string, args ...any) *RequestError {
	return &RequestError{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

func writeRequestError(w http.ResponseWriter, err error) {
	if re, ok := err.(*RequestError); ok {
		writeError(w, re.Status, re.Code, re.Message)
		return
	}
	writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
}

// Registration is a decoded registration request.
type Registration struct {
	CallbackURL string
	Filters     map[string]string
}

// callbackField is the registration body's callback property; the generated
// connector marks it x-ms-notification-url (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
const callbackField = "callbackUrl"

// DecodeRegistration reads {"callbackUrl": "…", <filter>: "…"} for a trigger.
// Unknown fields are refused with the list of known ones, so a connector
// author who misspells a filter learns it at once instead of receiving
// unfiltered events. The callback URL's syntax and address are checked
// separately (netguard).
func DecodeRegistration(body []byte, tr *catalog.Trigger) (Registration, error) {
	if err := CheckUTF8(body); err != nil {
		return Registration{}, err
	}
	var fields map[string]json.RawMessage
	if err := strictObject(body, &fields); err != nil {
		return Registration{}, err
	}
	reg := Registration{Filters: map[string]string{}}
	raw, ok := fields[callbackField]
	if !ok {
		return reg, invalid("callbackUrl is required: the URL triggerd posts notifications to")
	}
	if err := json.Unmarshal(raw, &reg.CallbackURL); err != nil {
		return reg, invalid("callbackUrl must be a string")
	}
	delete(fields, callbackField)

	known := map[string]catalog.Filter{}
	for _, f := range tr.Filters {
		known[f.Name] = f
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := known[name]
		if !ok {
			allowed := make([]string, 0, len(tr.Filters)+1)
			allowed = append(allowed, callbackField)
			for _, f := range tr.Filters {
				allowed = append(allowed, f.Name)
			}
			return reg, invalid("unknown field %q for trigger %s; allowed fields: %s", name, tr.Name, strings.Join(allowed, ", "))
		}
		v, err := filterValue(fields[name])
		if err != nil {
			return reg, invalid("%s: %v", name, err)
		}
		if v == "" {
			continue
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, v) {
			return reg, invalid("%s: %q is not one of %s", name, v, strings.Join(f.Enum, ", "))
		}
		reg.Filters[name] = v
	}
	for _, f := range tr.Filters {
		if f.Required && reg.Filters[f.Name] == "" {
			return reg, invalid("%s is required for trigger %s: %s", f.Name, tr.Name, f.Description)
		}
	}
	return reg, nil
}

// filterValue accepts a string, number or boolean (the designer sends every
// field as text, other clients may not) and null or "" for "not set".
func filterValue(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		return "", fmt.Errorf("must be a string, number or boolean")
	}
}

// DecodeEvents reads one event object or an array of them.
func DecodeEvents(body []byte) ([]publish.Input, error) {
	if err := CheckUTF8(body); err != nil {
		return nil, err
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, invalid("the body is empty: send {\"type\":\"…\",\"data\":{…}} or an array of them")
	}
	var inputs []publish.Input
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := strictJSON(body, &raws); err != nil {
			return nil, err
		}
		inputs = make([]publish.Input, len(raws))
		for i, raw := range raws {
			if err := decodeEvent(raw, &inputs[i]); err != nil {
				return nil, invalid("events[%d]: %s", i, err.Error())
			}
		}
		return inputs, nil
	}
	var in publish.Input
	if err := decodeEvent(body, &in); err != nil {
		return nil, err
	}
	return []publish.Input{in}, nil
}

func decodeEvent(raw []byte, in *publish.Input) error {
	var probe map[string]json.RawMessage
	if err := strictObject(raw, &probe); err != nil {
		return err
	}
	for k := range probe {
		if k != "type" && k != "id" && k != "data" {
			return invalid("unknown field %q; an event has type, id and data", k)
		}
	}
	if v, ok := probe["type"]; ok {
		if err := json.Unmarshal(v, &in.Type); err != nil {
			return invalid("type must be a string")
		}
	}
	if v, ok := probe["id"]; ok {
		if err := json.Unmarshal(v, &in.ID); err != nil {
			return invalid("id must be a string")
		}
	}
	in.Data = probe["data"]
	return nil
}

// strictObject decodes a single JSON object with nothing after it.
func strictObject(body []byte, v *map[string]json.RawMessage) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if len(trimmed) == 0 {
			return invalid("the body is empty: a JSON object is required")
		}
		if json.Valid(body) {
			return invalid("the body must be a JSON object")
		}
	}
	if err := strictJSON(body, v); err != nil {
		return err
	}
	if *v == nil {
		return invalid("the body must be a JSON object")
	}
	return nil
}

func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			return invalid("the body has the wrong shape: %v", err)
		}
		return badJSON(err)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return badJSON(fmt.Errorf("unexpected data after the JSON value"))
	}
	return nil
}
