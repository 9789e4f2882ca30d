// Package connector generates the files of a Power Platform custom connector
// for a triggerd catalog: the Swagger 2.0 definition
// (apiDefinition.swagger.json), its apiProperties.json and a paconn
// settings.json. Power Automate and Logic Apps show a trigger only when the
// definition follows their webhook contract to the letter
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger), so the contract is encoded here once
// instead of being hand-written per connector.
//
// For every catalog trigger the definition has a registration operation
// POST {basePath}/webhooks/{trigger}; one internal DELETE
// {basePath}/webhooks/{id} unsubscribes. basePath is the public URL's path
// followed by [APIVersionPath], so the absolute Location triggerd returns on
// registration, <public-url>/v1/webhooks/<id>, resolves against host and
// basePath to exactly that DELETE operation and the platform calls it
// through the connector, with the connection's API key
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
//
// A trigger the catalog offers for polling (catalog.KindPolling) also gets
// GET {basePath}/trigger/{trigger}, an x-ms-trigger batch operation with
// x-ms-trigger-metadata {kind: query, mode: polling} whose operationId is the
// trigger's followed by "Poll" (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app): the
// Location it answers with resolves to the same operation.
//
// The application embedding triggerd can add its own operations as
// [Action]s; their paths are relative to the same basePath.
package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/platform"
)

const (
	// DefaultPublicURL is the public URL used when Options.PublicURL is
	// empty: a triggerd serving on the loopback interface with the default
	// listen address.
	DefaultPublicURL = "http://127.0.0.1:8080"

	// APIVersionPath is appended to the public URL's path to form the
	// definition's basePath: triggerd serves its API under /v1.
	APIVersionPath = "/v1"

	// WebhooksPath is the prefix, under basePath, of the registration and
	// unsubscribe operations. Action paths must not use it.
	WebhooksPath = "/webhooks"

	// TriggerPath is the prefix, under basePath, of the polling operations,
	// GET {basePath}/trigger/{name}: the /trigger/ prefix real polling
	// triggers use (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions). Action paths must not
	// use it either.
	TriggerPath = "/trigger"

	// EventsPath, under basePath, is where events are published (POST).
	// It is not an operation of the connector: applications call it, not
	// the platform.
	EventsPath = "/events"

	// OpenAPIPath, under basePath, serves the generated definition.
	OpenAPIPath = "/openapi.json"

	// PollingStateParameter is the query parameter of a polling operation
	// that carries the trigger state (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
	PollingStateParameter = "triggerState"

	// DeleteOperationID is the operationId of the internal unsubscribe
	// operation. Flows store operationIds, so it never changes.
	DeleteOperationID = "DeleteWebhook"

	// APIKeyHeader is the header that carries a connection's API key.
	APIKeyHeader = "X-API-Key"

	// APIKeyParameter is the connection parameter, and the name of the
	// security definition, that holds the API key. The platform maps an
	// apiKey security definition to the securestring connection parameter
	// named api_key (https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json).
	APIKeyParameter = "api_key"

	// DefaultVersion is info.version when Options.Version is empty.
	DefaultVersion = "1.0"

	// DefaultIconBrandColor is apiProperties' iconBrandColor when
	// Options.IconBrandColor is empty: the colour the certification rules
	// require of independent publishers (https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json).
	DefaultIconBrandColor = platform.IndependentPublisherBrandColor

	// DefaultCategory is the x-ms-connector-metadata category when
	// Options.Categories is empty.
	DefaultCategory = "Productivity"

	// MaxCategories is how many categories the certification rules allow
	// (TooManyConnectorCategories, https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
	MaxCategories = platform.MaxCategories
)

// File names of the generated documents, as paconn expects them by default
// (https://github.com/microsoft/PowerPlatformConnectors/tree/dev/schemas, paconn-settings.schema.json).
const (
	DefinitionFile = "apiDefinition.swagger.json"
	PropertiesFile = "apiProperties.json"
	SettingsFile   = "settings.json"
)

// Options configures the generated connector.
type Options struct {
	// PublicURL is where makers' connections reach triggerd, e.g.
	// https://api.example.com or http://127.0.0.1:8080/prefix. The
	// definition's schemes and host come from it, and basePath is its path
	// followed by [APIVersionPath]. It must be the same URL the server
	// builds Location headers from. Empty means [DefaultPublicURL].
	PublicURL string

	// Actions are operations the embedding application serves itself, such
	// as "Get order details"; they are listed after the triggers.
	Actions []Action

	// Version is info.version; empty means [DefaultVersion].
	Version string

	// IconBrandColor is apiProperties' iconBrandColor, "#rrggbb"; empty
	// means [DefaultIconBrandColor].
	IconBrandColor string

	// Categories are the connector's categories in x-ms-connector-metadata,
	// at most [MaxCategories]; empty means [DefaultCategory].
	Categories []string
}

// Visibility is an x-ms-visibility value (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
type Visibility string

const (
	// VisibilityNone shows an operation or parameter normally.
	VisibilityNone Visibility = ""
	// VisibilityImportant shows it first.
	VisibilityImportant Visibility = "important"
	// VisibilityAdvanced hides it under the advanced options.
	VisibilityAdvanced Visibility = "advanced"
	// VisibilityInternal hides it from makers entirely.
	VisibilityInternal Visibility = "internal"
)

// Action is an operation the embedding application serves and wants makers
// to use next to triggerd's triggers, e.g. "Get order details" so a flow can
// fetch what a small notification only names
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
type Action struct {
	// OperationID is the PascalCase identifier flows store; never change it
	// once published.
	OperationID string

	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string

	// Path is relative to the definition's basePath, e.g. "/orders/{id}":
	// with the public URL https://api.example.com the application serves it
	// at https://api.example.com/v1/orders/{id}. Every {name} in it needs a
	// path parameter. Paths under /webhooks belong to triggerd.
	Path string

	// Summary is the action's name in the designer (80 characters at most).
	Summary string

	// Description explains the action; the certification rules require it.
	Description string

	// Visibility is the operation's x-ms-visibility.
	Visibility Visibility

	// Parameters are the path, query and header parameters.
	Parameters []Parameter

	// RequestBody is the JSON Schema (Swagger 2.0 subset, inline) of the
	// request body; nil for none. GET operations cannot have one
	// (BodyOrFormDataParameterInFetchOperationNotAllowed).
	RequestBody json.RawMessage

	// ResponseStatus is the success status code; 0 means 200.
	ResponseStatus int

	// ResponseDescription describes the success response; empty means
	// [DefaultResponseDescription]. Reviewers reject status-code names here.
	ResponseDescription string

	// Response is the JSON Schema of the success response body; nil for
	// none.
	Response json.RawMessage
}

// DefaultResponseDescription describes an action's success response when the
// action does not.
const DefaultResponseDescription = "The operation succeeded."

// Parameter is a path, query or header parameter of an [Action].
type Parameter struct {
	// Name is the parameter's name; for a path parameter, the {name} in the
	// action's path.
	Name string

	// In is "path", "query" or "header".
	In string

	// Type is "string" (the default), "integer", "number" or "boolean".
	Type string

	// Required makes the parameter mandatory. Path parameters always are.
	Required bool

	// Summary is the parameter's label in the designer (x-ms-summary).
	Summary string

	// Description explains the parameter; the certification rules require
	// it.
	Description string

	// Visibility is the parameter's x-ms-visibility. An internal parameter
	// cannot be required, since it would need a default value.
	Visibility Visibility

	// Enum, when set, lists the values a maker may choose.
	Enum []string
}

// Files are the generated connector documents, each the exact bytes of its
// file: indented JSON ending in a newline, with a stable member order so two
// exports of the same catalog are byte-identical.
type Files struct {
	// Definition is apiDefinition.swagger.json, the Swagger 2.0 definition.
	Definition json.RawMessage

	// Properties is apiProperties.json: connection parameters and branding.
	Properties json.RawMessage

	// Settings is paconn's settings.json, naming the other two files.
	Settings json.RawMessage
}

// WriteDir writes the three files into dir, creating it when needed. When
// dir already has a settings.json with the connectorId and environment paconn
// records after `paconn create`, they are kept, so `paconn update --settings
// settings.json` goes on updating the same connector after a re-export.
func (f *Files) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("connector: create output directory: %w", err)
	}
	settings, err := f.settingsFor(dir)
	if err != nil {
		return err
	}
	for _, file := range []struct {
		name string
		data []byte
	}{
		{DefinitionFile, f.Definition},
		{PropertiesFile, f.Properties},
		{SettingsFile, settings},
	} {
		if err := os.WriteFile(filepath.Join(dir, file.name), file.data, 0o644); err != nil {
			return fmt.Errorf("connector: write %s: %w", file.name, err)
		}
	}
	return nil
}

// Generate builds the connector files for a validated catalog (see
// [catalog.Catalog.Validate]). It reports every problem with the options at
// once.
func Generate(cat *catalog.Catalog, opts Options) (*Files, error) {
	if cat == nil {
		return nil, errors.New("connector: catalog is nil")
	}
	pub, err := parsePublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	g := &generator{cat: cat, opts: opts, pub: pub}
	def, err := g.definition()
	if err != nil {
		return nil, err
	}
	files := &Files{}
	if files.Definition, err = document(def); err != nil {
		return nil, fmt.Errorf("connector: encode %s: %w", DefinitionFile, err)
	}
	props, err := g.properties()
	if err != nil {
		return nil, err
	}
	if files.Properties, err = document(props); err != nil {
		return nil, fmt.Errorf("connector: encode %s: %w", PropertiesFile, err)
	}
	if files.Settings, err = document(settings()); err != nil {
		return nil, fmt.Errorf("connector: encode %s: %w", SettingsFile, err)
	}
	return files, nil
}

// publicURL is Options.PublicURL split into the definition's fields.
type publicURL struct {
	scheme   string
	host     string
	basePath string
}

func parsePublicURL(raw string) (publicURL, error) {
	if raw == "" {
		raw = DefaultPublicURL
	}
	bad := func(format string, args ...any) (publicURL, error) {
		return publicURL{}, fmt.Errorf("connector: public URL %q: "+format, append([]any{raw}, args...)...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return bad("must start with https:// or http://, like https://api.example.com")
	}
	if u.Host == "" || u.Opaque != "" {
		return bad("has no host; write it like https://api.example.com")
	}
	if u.User != nil {
		return bad("must not contain credentials; connections authenticate with the %s header", APIKeyHeader)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("must not have a query or fragment: the platform builds request URLs from host and basePath only")
	}
	if !platform.ValidHost(u.Host) {
		return bad("host %q is not accepted by the connector schema (a DNS name or IPv4 address with an optional port; no IPv6 literals)", u.Host)
	}
	// Braces would read as a path template in basePath.
	if strings.ContainsAny(u.Path, "{}") {
		return bad("path must not contain { or }")
	}
	if strings.Contains(u.Path, "//") {
		return bad("path has an empty segment (//)")
	}
	// One trailing slash is dropped, as the server does before appending
	// /v1/webhooks/<id> to build Location.
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return publicURL{scheme: scheme, host: u.Host, basePath: path + APIVersionPath}, nil
}
