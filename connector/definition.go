package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/platform"
)

// The shapes below are the subset of Swagger 2.0 the generator writes. They
// are structs rather than kin-openapi's openapi2 types so that members come
// out in a fixed, readable order (swagger, info, host, … then the
// extensions) instead of alphabetically, and so that nothing the Microsoft
// schema rejects can slip in.

type definition struct {
	Swagger             string          `json:"swagger"`
	Info                info            `json:"info"`
	Host                string          `json:"host"`
	BasePath            string          `json:"basePath"`
	Schemes             []string        `json:"schemes"`
	Consumes            []string        `json:"consumes"`
	Produces            []string        `json:"produces"`
	Paths               object          `json:"paths"`
	Definitions         object          `json:"definitions"`
	SecurityDefinitions object          `json:"securityDefinitions"`
	Security            []object        `json:"security"`
	ConnectorMetadata   []metadataEntry `json:"x-ms-connector-metadata"`
}

type info struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Version     string   `json:"version"`
	Contact     *contact `json:"contact,omitempty"`
}

type contact struct {
	Name  string `json:"name,omitempty"`
	URL   string `json:"url,omitempty"`
	Email string `json:"email,omitempty"`
}

type metadataEntry struct {
	PropertyName  string `json:"propertyName"`
	PropertyValue string `json:"propertyValue"`
}

type pathItem struct {
	// NotificationContent lives on the path item, not the operation: the
	// Microsoft schema allows it only there and all 643 real webhook
	// triggers put it there (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
	NotificationContent *notificationContent `json:"x-ms-notification-content,omitempty"`
	Get                 *operation           `json:"get,omitempty"`
	Post                *operation           `json:"post,omitempty"`
	Put                 *operation           `json:"put,omitempty"`
	Patch               *operation           `json:"patch,omitempty"`
	Delete              *operation           `json:"delete,omitempty"`
}

func (p *pathItem) slot(method string) **operation {
	switch method {
	case http.MethodGet:
		return &p.Get
	case http.MethodPost:
		return &p.Post
	case http.MethodPut:
		return &p.Put
	case http.MethodPatch:
		return &p.Patch
	case http.MethodDelete:
		return &p.Delete
	}
	return nil
}

type notificationContent struct {
	Description string `json:"description"`
	Schema      any    `json:"schema"`
}

type operation struct {
	OperationID string     `json:"operationId"`
	Summary     string     `json:"summary"`
	Description string     `json:"description"`
	Visibility  Visibility `json:"x-ms-visibility,omitempty"`
	Trigger     string     `json:"x-ms-trigger,omitempty"`
	// TriggerMetadata marks a polling trigger
	// (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions: {kind: query, mode: polling}).
	TriggerMetadata *triggerMetadata `json:"x-ms-trigger-metadata,omitempty"`
	TriggerHint     string           `json:"x-ms-trigger-hint,omitempty"`
	Parameters      []parameter      `json:"parameters,omitempty"`
	Responses       object           `json:"responses"`
}

type triggerMetadata struct {
	Kind string `json:"kind"`
	Mode string `json:"mode"`
}

type parameter struct {
	Name        string     `json:"name"`
	In          string     `json:"in"`
	Required    bool       `json:"required"`
	Type        string     `json:"type,omitempty"`
	Enum        []string   `json:"enum,omitempty"`
	Summary     string     `json:"x-ms-summary,omitempty"`
	Description string     `json:"description,omitempty"`
	Visibility  Visibility `json:"x-ms-visibility,omitempty"`
	URLEncoding string     `json:"x-ms-url-encoding,omitempty"`
	Schema      any        `json:"schema,omitempty"`
}

type response struct {
	Description string `json:"description"`
	Headers     object `json:"headers,omitempty"`
	Schema      any    `json:"schema,omitempty"`
}

type header struct {
	Type        string `json:"type"`
	Description string `json:"description"`
}

// schema is a schema the generator writes itself; catalog and action schemas
// are carried as decoded JSON (see normalizeSchema).
type schema struct {
	Ref                  string     `json:"$ref,omitempty"`
	Type                 string     `json:"type,omitempty"`
	Format               string     `json:"format,omitempty"`
	Summary              string     `json:"x-ms-summary,omitempty"`
	Description          string     `json:"description,omitempty"`
	Visibility           Visibility `json:"x-ms-visibility,omitempty"`
	NotificationURL      bool       `json:"x-ms-notification-url,omitempty"`
	Enum                 []string   `json:"enum,omitempty"`
	Required             []string   `json:"required,omitempty"`
	Properties           object     `json:"properties,omitempty"`
	AdditionalProperties any        `json:"additionalProperties,omitempty"`
	Items                any        `json:"items,omitempty"`
}

const (
	// callbackProperty is the registration body property that receives the
	// flow's callback URL. The platform does not care about its name
	// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger); the catalog reserves it.
	callbackProperty = "callbackUrl"

	// subscriptionDefinition names the registration response schema.
	subscriptionDefinition = "Subscription"

	// pollingValueProperty holds a polling response's events: the array is
	// a property, not the body, so the platform can split it (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions, https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
	pollingValueProperty = "value"

	// deletePath is the unsubscribe operation's path under basePath. Its
	// single segment after /webhooks/ is what the server puts after
	// <public-url>/v1/webhooks/ in the Location header.
	deletePath = WebhooksPath + "/{id}"
)

type generator struct {
	cat  *catalog.Catalog
	opts Options
	pub  publicURL
}

func (g *generator) definition() (*definition, error) {
	conn := g.cat.Connector
	version := g.opts.Version
	if version == "" {
		version = DefaultVersion
	}
	def := &definition{
		Swagger: "2.0",
		Info: info{
			Title:       conn.Title,
			Description: conn.Description,
			Version:     version,
		},
		Host:     g.pub.host,
		BasePath: g.pub.basePath,
		Schemes:  []string{g.pub.scheme},
		Consumes: []string{"application/json"},
		Produces: []string{"application/json"},
	}
	if c := conn.Contact; c != (catalog.Contact{}) {
		def.Info.Contact = &contact{Name: c.Name, URL: c.URL, Email: c.Email}
	}

	var errs []error
	opIDs := map[string]string{DeleteOperationID: "the unsubscribe operation"}
	paths := map[string]*pathItem{}
	var order []string
	addPath := func(p string) *pathItem {
		if item, ok := paths[p]; ok {
			return item
		}
		item := &pathItem{}
		paths[p] = item
		order = append(order, p)
		return item
	}

	webhooks := false
	for i, t := range g.cat.Triggers {
		if t.Offers(catalog.KindWebhook) {
			webhooks = true
			if prev, ok := opIDs[t.OperationID]; ok {
				errs = append(errs, fmt.Errorf("connector: triggers[%d] (%s): operationId %q is already used by %s", i, t.Name, t.OperationID, prev))
			}
			opIDs[t.OperationID] = "trigger " + t.Name
			item, err := g.triggerPath(t)
			if err != nil {
				errs = append(errs, fmt.Errorf("connector: triggers[%d] (%s): %w", i, t.Name, err))
				continue
			}
			*addPath(WebhooksPath + "/" + t.Name) = *item
		}
		if t.Offers(catalog.KindPolling) {
			id := t.PollingOperationID()
			if prev, ok := opIDs[id]; ok {
				errs = append(errs, fmt.Errorf("connector: triggers[%d] (%s): polling operationId %q is already used by %s", i, t.Name, id, prev))
			}
			opIDs[id] = "polling trigger " + t.Name
			op, err := g.pollingOperation(t)
			if err != nil {
				errs = append(errs, fmt.Errorf("connector: triggers[%d] (%s): %w", i, t.Name, err))
				continue
			}
			addPath(TriggerPath + "/" + t.Name).Get = op
		}
	}
	// The unsubscribe operation exists for webhook triggers only; a
	// connector of polling triggers has nothing to delete.
	if webhooks {
		addPath(deletePath).Delete = deleteOperation()
	}

	for i, a := range g.opts.Actions {
		op, method, err := g.action(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("connector: actions[%d] (%s): %w", i, a.OperationID, err))
			continue
		}
		if prev, ok := opIDs[a.OperationID]; ok {
			errs = append(errs, fmt.Errorf("connector: actions[%d]: operationId %q is already used by %s; operationIds must be unique", i, a.OperationID, prev))
			continue
		}
		opIDs[a.OperationID] = "action " + a.OperationID
		// The platform compares paths case-insensitively (PathRedefined,
		// https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules), so /Orders and /orders are one.
		key := a.Path
		for _, p := range order {
			if strings.EqualFold(p, a.Path) {
				key = p
			}
		}
		if key != a.Path {
			errs = append(errs, fmt.Errorf("connector: actions[%d] (%s): path %q differs from %q only in case; write it the same way", i, a.OperationID, a.Path, key))
			continue
		}
		slot := addPath(key).slot(method)
		if *slot != nil {
			errs = append(errs, fmt.Errorf("connector: actions[%d] (%s): %s %s is already declared by %s", i, a.OperationID, method, a.Path, (*slot).OperationID))
			continue
		}
		*slot = op
	}

	meta, err := g.metadata()
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	def.ConnectorMetadata = meta

	for _, p := range order {
		def.Paths.add(p, paths[p])
	}
	def.Definitions.add(subscriptionDefinition, subscriptionSchema())
	var apiKey object
	apiKey.add("type", "apiKey")
	apiKey.add("in", "header")
	apiKey.add("name", APIKeyHeader)
	def.SecurityDefinitions.add(APIKeyParameter, apiKey)
	var req object
	req.add(APIKeyParameter, []string{})
	def.Security = []object{req}
	return def, nil
}

// triggerPath is the path item of one trigger's registration operation
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
func (g *generator) triggerPath(t *catalog.Trigger) (*pathItem, error) {
	item, err := normalizeSchema(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	mode := t.Mode
	if mode == "" {
		mode = catalog.ModeSingle
	}
	notification := item
	if mode == catalog.ModeBatch {
		// A batch notification is a JSON array of events; the platform
		// splits it into one run per element (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger, SplitOn).
		notification = &schema{Type: "array", Items: item}
	}

	// The callback property must be a string, internal, flagged
	// x-ms-notification-url, and required at every level up to the body
	// (NotificationUrlNotString, NotificationUrlNotInternal,
	// NotificationUrlNotRequired; https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). It is the one internal required
	// property without a default: the platform fills it in.
	body := &schema{Type: "object", Required: []string{callbackProperty}}
	body.Properties.add(callbackProperty, &schema{
		Type:            "string",
		Description:     "The URL triggerd posts events to. The platform fills it in when a flow subscribes.",
		Visibility:      VisibilityInternal,
		NotificationURL: true,
	})
	for _, f := range t.Filters {
		body.Properties.add(f.Name, &schema{
			Type:        "string",
			Summary:     f.Summary,
			Description: f.Description,
			Enum:        f.Enum,
		})
		if f.Required {
			body.Required = append(body.Required, f.Name)
		}
	}

	var location object
	location.add("Location", header{
		Type:        "string",
		Description: "The URL of the subscription. The platform sends DELETE to it when the flow's trigger is removed, disabled or changed.",
	})
	var responses object
	responses.add("201", response{
		Description: "The subscription was created.",
		Headers:     location,
		Schema:      &schema{Ref: "#/definitions/" + subscriptionDefinition},
	})

	return &pathItem{
		NotificationContent: &notificationContent{Description: t.SchemaDescription, Schema: notification},
		Post: &operation{
			OperationID: t.OperationID,
			Summary:     t.Summary,
			Description: t.Description,
			Trigger:     string(mode),
			TriggerHint: t.HintOrDefault(),
			Parameters: []parameter{{
				Name:        "body",
				In:          "body",
				Required:    true,
				Description: "The subscription: where to post events and which events to post.",
				Schema:      body,
			}},
			Responses: responses,
		},
	}, nil
}

// pollingOperation is a trigger's polling operation, GET
// {basePath}/trigger/{name}, in the backend-managed-state pattern of
// https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app: the platform calls it, triggerd
// answers 202 with a Location that carries the trigger state and a
// Retry-After while nothing is new, and 200 with {"value": [events]} and the
// next Location when something is; Retry-After 0 asks for the next page at
// once. The response is an array under "value", declared x-ms-trigger batch,
// so the platform splits it into one run per event (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app) and the trigger
// body is never a bare array (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
func (g *generator) pollingOperation(t *catalog.Trigger) (*operation, error) {
	item, err := normalizeSchema(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	var params []parameter
	for _, f := range t.Filters {
		params = append(params, parameter{
			Name:        f.Name,
			In:          "query",
			Required:    f.Required,
			Type:        "string",
			Enum:        f.Enum,
			Summary:     f.Summary,
			Description: f.Description,
		})
	}
	// The state is internal and optional, without a default: the first
	// call has none, and every later one comes from a Location triggerd
	// wrote. An internal parameter with a default would have to be required
	// (PropertyMustBeRequired, InternalPropertyWithDefaultOptional, https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger),
	// and a required one could not be absent on the first call.
	params = append(params, parameter{
		Name:        PollingStateParameter,
		In:          "query",
		Type:        "string",
		Summary:     "Trigger state",
		Description: "Where the previous poll stopped. Opaque; triggerd puts it in the Location it returns.",
		Visibility:  VisibilityInternal,
	})

	headers := func(next string) object {
		var h object
		h.add("Location", header{Type: "string", Description: next})
		h.add("Retry-After", header{Type: "integer", Description: "Seconds to wait before calling Location; 0 while more events wait."})
		return h
	}
	value := &schema{Type: "object"}
	value.Properties.add(pollingValueProperty, &schema{
		Type:        "array",
		Description: "The new events, oldest first.",
		Items:       item,
	})
	var responses object
	responses.add("200", response{
		Description: "New events, oldest first; the platform starts a run for each.",
		Headers:     headers("The URL of the next poll, carrying the state after the last event returned."),
		Schema:      value,
	})
	responses.add("202", response{
		Description: "No new events yet.",
		Headers:     headers("The URL of the next poll, carrying the unchanged state."),
	})
	return &operation{
		OperationID:     t.PollingOperationID(),
		Summary:         t.PollingSummary(),
		Description:     t.PollingDescription(),
		Trigger:         string(catalog.ModeBatch),
		TriggerMetadata: &triggerMetadata{Kind: "query", Mode: "polling"},
		TriggerHint:     t.HintOrDefault(),
		Parameters:      params,
		Responses:       responses,
	}, nil
}

// deleteOperation unsubscribes. It must exist and be internal, or webhooks
// are created and never deleted (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
func deleteOperation() *operation {
	var responses object
	responses.add("204", response{Description: "The subscription was deleted, or did not exist."})
	return &operation{
		OperationID: DeleteOperationID,
		Summary:     "Delete a trigger subscription",
		Description: "Deletes a trigger subscription. The platform calls it when a flow's trigger is removed, disabled or changed.",
		Visibility:  VisibilityInternal,
		Parameters: []parameter{{
			Name:        "id",
			In:          "path",
			Required:    true,
			Type:        "string",
			Summary:     "Subscription ID",
			Description: "The ID of the subscription, the last segment of the Location the registration returned.",
			// PathParameterMissingEncoding (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
			URLEncoding: "single",
		}},
		Responses: responses,
	}
}

// subscriptionSchema is the registration's response body.
func subscriptionSchema() *schema {
	s := &schema{Type: "object"}
	s.Properties.add("id", &schema{Type: "string", Summary: "Subscription ID", Description: "The subscription's ID."})
	s.Properties.add("trigger", &schema{Type: "string", Summary: "Trigger", Description: "The event type subscribed to, such as order.created."})
	s.Properties.add("callbackUrl", &schema{Type: "string", Summary: "Callback URL", Description: "The URL events are posted to."})
	s.Properties.add("filters", &schema{
		Type:                 "object",
		Summary:              "Filters",
		Description:          "The filter values the subscription set.",
		AdditionalProperties: &schema{Type: "string"},
	})
	s.Properties.add("createdAt", &schema{Type: "string", Format: "date-time", Summary: "Created at", Description: "When the subscription was created."})
	s.Properties.add("secret", &schema{Type: "string", Summary: "Signing secret", Description: "The secret that signs the subscription's notifications."})
	return s
}

func (g *generator) metadata() ([]metadataEntry, error) {
	conn := g.cat.Connector
	var meta []metadataEntry
	if conn.Website != "" {
		meta = append(meta, metadataEntry{"Website", conn.Website})
	}
	if conn.PrivacyPolicy != "" {
		meta = append(meta, metadataEntry{"Privacy policy", conn.PrivacyPolicy})
	}
	cats := g.opts.Categories
	if len(cats) == 0 {
		cats = g.cat.Connector.Categories
	}
	if len(cats) == 0 {
		cats = []string{DefaultCategory}
	}
	if len(cats) > MaxCategories {
		return nil, fmt.Errorf("connector: %d categories given; the platform allows at most %d", len(cats), MaxCategories)
	}
	for _, c := range cats {
		if c == "" || strings.Contains(c, ";") {
			return nil, fmt.Errorf("connector: category %q must be one non-empty category name", c)
		}
		if !platform.ValidCategory(c) {
			return nil, fmt.Errorf("connector: category %q is not one the platform accepts (InvalidConnectorCategory); use one of %s",
				c, strings.Join(platform.Categories(), ", "))
		}
	}
	meta = append(meta, metadataEntry{"Categories", strings.Join(cats, ";")})
	return meta, nil
}

var (
	pathParamRe = regexp.MustCompile(`\{([^{}/]*)\}`)
)

// action builds an application operation and checks it against the rules
// the platform's validator applies (https://learn.microsoft.com/connectors/custom-connectors/certification-submission, https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules).
func (g *generator) action(a Action) (*operation, string, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if problem := platform.OperationIDProblem(a.OperationID); problem != "" {
		bad("operationId %s", problem)
	}
	method := strings.ToUpper(a.Method)
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		bad("method %q must be GET, POST, PUT, PATCH or DELETE", a.Method)
	}
	_, pathProblem := platform.PathProblem(a.Path)
	switch {
	case pathProblem != "":
		bad("path %q %s (it is relative to basePath, like /orders/{id})", a.Path, pathProblem)
	case strings.EqualFold(a.Path, WebhooksPath) || strings.HasPrefix(strings.ToLower(a.Path), WebhooksPath+"/"):
		bad("path %q is under %s, which triggerd's own webhook operations use", a.Path, WebhooksPath)
	case strings.EqualFold(a.Path, TriggerPath) || strings.HasPrefix(strings.ToLower(a.Path), TriggerPath+"/"):
		bad("path %q is under %s, which triggerd's own polling operations use", a.Path, TriggerPath)
	}
	switch n := len([]rune(a.Summary)); {
	case n == 0:
		bad("summary is required: the action's name in the designer")
	default:
		if problem := platform.SummaryProblem(a.Summary, platform.SummaryMaxLen); problem != "" {
			bad("summary %s", problem)
		}
	}
	if a.Description == "" {
		bad("description is required: it tells the maker what the action does")
	}
	if !validVisibility(a.Visibility) {
		bad("visibility %q must be empty, important, advanced or internal", a.Visibility)
	}

	inPath := map[string]bool{}
	for _, m := range pathParamRe.FindAllStringSubmatch(a.Path, -1) {
		inPath[m[1]] = true
	}
	declared := map[string]bool{}
	var params []parameter
	for j, p := range a.Parameters {
		where := fmt.Sprintf("parameters[%d] (%s)", j, p.Name)
		key := p.In + ":" + p.Name
		switch {
		case p.Name == "":
			bad("parameters[%d]: name is required", j)
		case strings.EqualFold(p.Name, "connectionId"):
			bad("%s: the name connectionId is reserved by the platform (ConnectionIdParameterNotAllowed)", where)
		case declared[key]:
			bad("%s: declared twice in %s", where, p.In)
		}
		declared[key] = true
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		switch typ {
		case "string", "integer", "number", "boolean":
		default:
			bad("%s: type %q must be string, integer, number or boolean", where, p.Type)
		}
		required := p.Required
		var encoding string
		switch p.In {
		case "path":
			if !inPath[p.Name] {
				bad("%s: path parameter is not in the path %q (PathParameterNotDefinedInTemplate)", where, a.Path)
			}
			required = true // PathParameterMustBeRequired
			encoding = "single"
		case "query", "header":
		default:
			bad("%s: in %q must be path, query or header (the request body is Action.RequestBody)", where, p.In)
		}
		if p.Description == "" {
			bad("%s: description is required", where)
		}
		if !validVisibility(p.Visibility) {
			bad("%s: visibility %q must be empty, important, advanced or internal", where, p.Visibility)
		}
		if p.Visibility == VisibilityInternal && required {
			bad("%s: an internal parameter cannot be required, it would need a default value the maker cannot see", where)
		}
		params = append(params, parameter{
			Name:        p.Name,
			In:          p.In,
			Required:    required,
			Type:        typ,
			Enum:        p.Enum,
			Summary:     p.Summary,
			Description: p.Description,
			Visibility:  p.Visibility,
			URLEncoding: encoding,
		})
	}
	for name := range inPath {
		if !declared["path:"+name] {
			bad("path %q has {%s} but no path parameter of that name (OperationMissingPathParameter)", a.Path, name)
		}
	}

	if len(bytes.TrimSpace(a.RequestBody)) > 0 {
		if method == http.MethodGet {
			bad("a GET action cannot have a request body (BodyOrFormDataParameterInFetchOperationNotAllowed)")
		}
		s, err := normalizeSchema(a.RequestBody)
		if err != nil {
			bad("request body schema: %v", err)
		}
		params = append(params, parameter{
			Name:        "body",
			In:          "body",
			Required:    true,
			Description: "The request body.",
			Schema:      s,
		})
	}

	status := a.ResponseStatus
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 299 {
		bad("response status %d must be a 2xx success code", status)
	}
	desc := a.ResponseDescription
	if desc == "" {
		desc = DefaultResponseDescription
	}
	resp := response{Description: desc}
	if len(bytes.TrimSpace(a.Response)) > 0 {
		s, err := normalizeSchema(a.Response)
		if err != nil {
			bad("response schema: %v", err)
		}
		resp.Schema = s
	}

	if len(problems) > 0 {
		return nil, "", errors.New(strings.Join(problems, "; "))
	}
	var responses object
	responses.add(fmt.Sprint(status), resp)
	return &operation{
		OperationID: a.OperationID,
		Summary:     a.Summary,
		Description: a.Description,
		Visibility:  a.Visibility,
		Parameters:  params,
		Responses:   responses,
	}, method, nil
}

func validVisibility(v Visibility) bool {
	switch v {
	case VisibilityNone, VisibilityImportant, VisibilityAdvanced, VisibilityInternal:
		return true
	}
	return false
}

// schemaFormats are the formats the Microsoft schema accepts
// (apiDefinition.swagger.schema.json, definitions.format).
var schemaFormats = map[string]bool{
	"int32": true, "int64": true, "float": true, "double": true, "byte": true,
	"binary": true, "date": true, "date-time": true, "password": true,
	"date-no-tz": true, "email": true, "html": true, "uri": true, "uuid": true,
}

// normalizeSchema decodes a schema for embedding in the definition. Numbers
// keep their exact text. A format the Microsoft schema does not list (such as
// "decimal", which Swagger 2.0 permits as free text) is dropped: the
// connector would be rejected for it, and the type alone still tells the
// designer what the value is.
func normalizeSchema(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("must be a JSON object")
	}
	dropUnknownFormats(m)
	labelProperties(m, 0)
	return m, nil
}

// labelProperties gives every property of a schema an x-ms-summary, the
// label the designer shows for it in dynamic content: the schema's own
// x-ms-summary, else its title, else the property name in title case
// (orderId → "Order ID"). Certification reviewers ask for one on each field
// (https://learn.microsoft.com/connectors/custom-connectors/connector-string-guidance),
// and most certified webhook connectors have them. A derived label that
// would break the summary rules is left out.
func labelProperties(node map[string]any, depth int) {
	if depth > maxLabelDepth {
		return
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for name, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			if _, ok := pm["x-ms-summary"]; !ok {
				label, _ := pm["title"].(string)
				if label == "" {
					label = titleCase(name)
				}
				if label != "" && platform.SummaryProblem(label, platform.SummaryMaxLen) == "" {
					pm["x-ms-summary"] = label
				}
			}
			labelProperties(pm, depth+1)
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := node[k].(map[string]any); ok {
			labelProperties(m, depth+1)
		}
	}
	if list, ok := node["allOf"].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				labelProperties(m, depth+1)
			}
		}
	}
}

// maxLabelDepth bounds labelProperties on absurdly nested schemas.
const maxLabelDepth = 64

// titleCase turns a property name (camelCase, snake_case, kebab-case) into
// title-case words, with the initialisms ID and URL upper case.
func titleCase(name string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.':
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	for i, w := range words {
		switch strings.ToLower(w) {
		case "id", "url", "uri", "api":
			words[i] = strings.ToUpper(w)
		default:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			words[i] = string(r)
		}
	}
	return strings.Join(words, " ")
}

func dropUnknownFormats(node map[string]any) {
	if f, ok := node["format"].(string); ok && !schemaFormats[f] {
		delete(node, "format")
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				dropUnknownFormats(pm)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := node[k].(map[string]any); ok {
			dropUnknownFormats(m)
		}
	}
	if list, ok := node["allOf"].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				dropUnknownFormats(m)
			}
		}
	}
}
