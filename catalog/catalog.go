// Package catalog declares the triggers a triggerd publisher offers: for each
// event type, the operation a custom connector shows to makers, the JSON Schema
// of the notification body, and the filter fields a maker sets when the flow
// subscribes.
//
// A catalog is written in YAML (see [Parse]) or built in Go, and must pass
// [Catalog.Validate] before use: every later piece of triggerd (the HTTP API,
// delivery, the connector generator) relies on the guarantees it checks.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/triggerd/triggerd/internal/platform"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders schema errors; English is the language of every API error.
var printer = message.NewPrinter(language.English)

// Mode says how a webhook trigger's notifications are shaped. It becomes the
// connector's x-ms-trigger value (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
type Mode string

const (
	// ModeSingle posts one event's data per request: a JSON object. This is
	// what 643 of 643 real webhook triggers use (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger) and the default.
	ModeSingle Mode = "single"

	// ModeBatch posts a JSON array of event data per request, collected over a
	// size and time window. The platform then splits the array into runs
	// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger, SplitOn).
	ModeBatch Mode = "batch"
)

// Kind is a way the platform can run a trigger
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger, https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app). A trigger may offer both kinds for the same events: they read the
// same event log.
type Kind string

const (
	// KindWebhook offers the trigger as a webhook: the platform registers a
	// callback URL and triggerd posts every event to it (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). The default.
	KindWebhook Kind = "webhook"

	// KindPolling offers the trigger as a polling trigger: the platform
	// calls GET /v1/trigger/{name} at intervals and triggerd answers with
	// the events since the state it handed out last (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app). For APIs
	// and makers that cannot receive webhooks.
	KindPolling Kind = "polling"
)

const (
	// PollingOperationIDSuffix is appended to a trigger's operationId to
	// name its polling operation: OrderCreated polls as OrderCreatedPoll.
	// Flows store operationIds, so the polling one is derived, never
	// chosen, and stays what it is for as long as the trigger's own
	// operationId does.
	PollingOperationIDSuffix = "Poll"

	// PollingSummarySuffix is appended to a trigger's summary for its
	// polling operation, so the designer lists two distinct triggers.
	PollingSummarySuffix = " (polling)"
)

const (
	// BatchSizeDefault is how many events a batch-mode notification carries at
	// most when the catalog does not say.
	BatchSizeDefault = 100

	// BatchSizeMax bounds a batch so that one notification stays far below the
	// platform's 100 MB message limit (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
	BatchSizeMax = 1000

	// ConcurrencyMax bounds a trigger's own cap on attempts in flight to
	// one subscription.
	ConcurrencyMax = 1000

	// BatchWindowDefault is how long a batch-mode subscription collects events
	// before the first of them is sent.
	BatchWindowDefault = 5 * time.Second

	// BatchWindowMax bounds the window: a maker waiting minutes for a run
	// believes the trigger is broken.
	BatchWindowMax = 10 * time.Minute

	// TitleMaxLen is the connector title limit; see [platform.TitleMaxLen].
	TitleMaxLen = platform.TitleMaxLen

	// DescriptionMinLen and DescriptionMaxLen bound the connector
	// description; see [platform.DescriptionMinLen].
	DescriptionMinLen = platform.DescriptionMinLen
	DescriptionMaxLen = platform.DescriptionMaxLen

	// SummaryMaxLen is the operation summary limit; see
	// [platform.SummaryMaxLen].
	SummaryMaxLen = platform.SummaryMaxLen
)

// Catalog is the connector and the triggers it offers.
type Catalog struct {
	// Connector describes the custom connector as makers see it.
	Connector Connector `json:"connector" yaml:"connector"`

	// Triggers are the event types that can be subscribed to, in the order
	// the connector lists them.
	Triggers []*Trigger `json:"triggers" yaml:"triggers"`

	byName map[string]*Trigger
}

// Connector is the connector-level text of the generated definition.
type Connector struct {
	// Title is the connector's name in the designer, at most 30 characters.
	Title string `json:"title" yaml:"title"`

	// Description is 30 to 500 characters about what the connector does.
	Description string `json:"description" yaml:"description"`

	// Publisher is the organisation that publishes the connector.
	Publisher string `json:"publisher,omitempty" yaml:"publisher"`

	// Contact is where makers get support.
	Contact Contact `json:"contact" yaml:"contact"`

	// Website and PrivacyPolicy become x-ms-connector-metadata entries.
	Website       string `json:"website,omitempty" yaml:"website"`
	PrivacyPolicy string `json:"privacyPolicy,omitempty" yaml:"privacyPolicy"`

	// IconBrandColor is the connector's colour in the designer,
	// apiProperties' iconBrandColor, written #rrggbb. Empty means the
	// independent-publisher colour, #da3b01, which independent publishers
	// must use; a certified connector chooses its own, other than #007ee5 and
	// #ffffff (https://github.com/microsoft/PowerPlatformConnectors#readme).
	IconBrandColor string `json:"iconBrandColor,omitempty" yaml:"iconBrandColor"`

	// Categories are one or two of the categories certification accepts
	// (platform.Categories), listed in x-ms-connector-metadata. Empty means
	// Productivity.
	Categories []string `json:"categories,omitempty" yaml:"categories"`
}

// Contact is the info.contact of the connector definition.
type Contact struct {
	Name  string `json:"name,omitempty" yaml:"name"`
	URL   string `json:"url,omitempty" yaml:"url"`
	Email string `json:"email,omitempty" yaml:"email"`
}

// Trigger is one event type and the connector operation that subscribes to it.
type Trigger struct {
	// Name is the event type publishers send, e.g. "order.created". It is
	// also the path segment of the registration endpoint.
	Name string `json:"name" yaml:"name"`

	// OperationID is the PascalCase operationId of the trigger operation
	// (e.g. "OrderCreated"). Flows refer to it, so it must never change once
	// published.
	OperationID string `json:"operationId" yaml:"operationId"`

	// Summary is what the designer lists, "When an order is created".
	Summary string `json:"summary" yaml:"summary"`

	// Description is "This operation triggers when …".
	Description string `json:"description" yaml:"description"`

	// Hint tells a maker how to fire the trigger (x-ms-trigger-hint, https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
	// Empty means one is derived from the summary.
	Hint string `json:"hint,omitempty" yaml:"hint"`

	// Mode is single (default) or batch. It shapes webhook notifications
	// only; a polling response always carries an array (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
	Mode Mode `json:"mode,omitempty" yaml:"mode"`

	// Kinds are the ways the connector offers the trigger: webhook,
	// polling or both. Empty means webhook only.
	Kinds []Kind `json:"kinds,omitempty" yaml:"kinds"`

	// Batch is the window of a batch-mode trigger; ignored in single mode.
	Batch BatchWindow `json:"batch,omitempty" yaml:"batch"`

	// Concurrency caps the delivery attempts in flight to one subscription
	// of this trigger (per server process); 0 means the server's
	// --subscription-concurrency. A receiver that must see one notification
	// at a time takes 1; one that scales takes more.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency"`

	// SchemaDescription is the description of x-ms-notification-content.
	SchemaDescription string `json:"schemaDescription,omitempty" yaml:"schemaDescription"`

	// Schema is the JSON Schema (the Swagger 2.0 subset of draft-04) of one
	// event's data. Every published event is validated against it, so a
	// notification always carries what the connector promised (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
	Schema json.RawMessage `json:"schema" yaml:"-"`

	// Filters are the fields a maker may set when subscribing; an event is
	// delivered to a subscription only when every filter it set matches.
	Filters []Filter `json:"filters,omitempty" yaml:"filters"`

	validator *jsonschema.Schema
}

// BatchWindow bounds a batch: it is sent when Size events are waiting or
// Window has passed since the first of them, whichever comes first.
type BatchWindow struct {
	Size   int      `json:"size,omitempty" yaml:"size"`
	Window Duration `json:"window,omitempty" yaml:"window"`
}

// Duration is a time.Duration written as "5s" in YAML and JSON.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (write it like 5s or 1m30s)", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Filter is a subscription-time field. A maker sets it in the trigger's card;
// the publisher compares it with the event data at Path.
type Filter struct {
	// Name is the body property of the registration request, e.g. "status".
	Name string `json:"name" yaml:"name"`

	// Summary is the field's label in the designer (x-ms-summary).
	Summary string `json:"summary" yaml:"summary"`

	// Description explains the field to the maker.
	Description string `json:"description" yaml:"description"`

	// Path is the dot-separated location in the event data the value is
	// compared with; empty means Name.
	Path string `json:"path,omitempty" yaml:"path"`

	// Enum, when set, lists the values a maker may choose.
	Enum []string `json:"enum,omitempty" yaml:"enum"`

	// Required makes the field mandatory at registration.
	Required bool `json:"required,omitempty" yaml:"required"`
}

// Offers reports whether the trigger is offered as kind.
func (t *Trigger) Offers(kind Kind) bool {
	if len(t.Kinds) == 0 {
		return kind == KindWebhook
	}
	for _, k := range t.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// PollingOperationID is the operationId of the trigger's polling operation:
// its OperationID followed by [PollingOperationIDSuffix].
func (t *Trigger) PollingOperationID() string { return t.OperationID + PollingOperationIDSuffix }

// PollingSummary is the designer's name for the polling operation, e.g.
// "When an order is created (polling)".
func (t *Trigger) PollingSummary() string { return t.Summary + PollingSummarySuffix }

// PollingDescription describes the polling operation: the trigger's
// description and how it differs from the webhook one.
func (t *Trigger) PollingDescription() string {
	return strings.TrimSpace(t.Description) + " It checks for new events at intervals instead of being notified at once."
}

// FieldPath is the dot-separated location in the event data that the filter
// compares with.
func (f Filter) FieldPath() string {
	if f.Path != "" {
		return f.Path
	}
	return f.Name
}

// Trigger returns the trigger for an event type.
func (c *Catalog) Trigger(name string) (*Trigger, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// TriggerNames lists the event types, sorted, for error messages.
func (c *Catalog) TriggerNames() []string {
	names := make([]string, 0, len(c.Triggers))
	for _, t := range c.Triggers {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}

// Error is a catalog problem: the file, the path inside it and what is wrong.
type Error struct {
	File    string
	Path    string
	Message string
}

func (e *Error) Error() string {
	loc := e.Path
	if e.File != "" {
		loc = e.File + ": " + e.Path
	}
	return loc + ": " + e.Message
}

// Errors collects every problem of a catalog, so an author fixes them in one
// pass instead of one start at a time.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return "invalid catalog:\n  " + strings.Join(msgs, "\n  ")
}

// Load reads and validates a YAML catalog file.
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return Parse(data, path)
}

//go:embed demo.yaml
var demoYAML []byte

// DemoYAML returns the YAML of the built-in demo catalog, a starting point for
// an author's own.
func DemoYAML() []byte { return bytes.Clone(demoYAML) }

// Demo returns the built-in demo catalog: the web store of the seed
// requirement, with order.created and order.updated.
func Demo() *Catalog {
	c, err := Parse(demoYAML, "demo.yaml")
	if err != nil {
		panic("catalog: built-in demo catalog is invalid: " + err.Error())
	}
	return c
}

// yamlCatalog mirrors Catalog with the schema as a YAML value, which is then
// turned into JSON.
type yamlCatalog struct {
	Connector Connector     `yaml:"connector"`
	Triggers  []yamlTrigger `yaml:"triggers"`
}

type yamlTrigger struct {
	Trigger `yaml:",inline"`
	Schema  any `yaml:"schema"`
}

// Parse decodes and validates a YAML catalog. file names the source in errors.
func Parse(data []byte, file string) (*Catalog, error) {
	var yc yamlCatalog
	if err := yaml.UnmarshalWithOptions(data, &yc, yaml.Strict()); err != nil {
		return nil, &Error{File: file, Path: "$", Message: yaml.FormatError(err, false, true)}
	}
	c := &Catalog{Connector: yc.Connector}
	for i, yt := range yc.Triggers {
		t := yt.Trigger
		if yt.Schema != nil {
			raw, err := json.Marshal(normalizeYAML(yt.Schema))
			if err != nil {
				return nil, &Error{File: file, Path: fmt.Sprintf("triggers[%d].schema", i), Message: err.Error()}
			}
			t.Schema = raw
		}
		c.Triggers = append(c.Triggers, &t)
	}
	if err := c.validate(file); err != nil {
		return nil, err
	}
	return c, nil
}

// normalizeYAML turns map[any]any (which some YAML shapes produce) into
// map[string]any so the value marshals as JSON.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeYAML(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalizeYAML(e)
		}
		return x
	default:
		return v
	}
}

// Validate checks the catalog and prepares its schemas. It must be called on
// a catalog built in Go before it is used; Parse and Load call it.
func (c *Catalog) Validate() error { return c.validate("") }

var (
	eventNameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	filterNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// reservedBodyFields are registration body properties triggerd itself uses.
var reservedBodyFields = map[string]bool{"callbackUrl": true}

func (c *Catalog) validate(file string) error {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, &Error{File: file, Path: path, Message: fmt.Sprintf(format, args...)})
	}

	conn := &c.Connector
	switch n := len([]rune(conn.Title)); {
	case n == 0:
		add("connector.title", "is required: the connector's name in the designer")
	case n > TitleMaxLen:
		add("connector.title", "is %d characters; the platform allows at most %d", n, TitleMaxLen)
	}
	if n := len([]rune(conn.Description)); n < DescriptionMinLen || n > DescriptionMaxLen {
		add("connector.description", "is %d characters; the platform requires %d to %d", n, DescriptionMinLen, DescriptionMaxLen)
	}

	if conn.IconBrandColor != "" {
		if problem := platform.BrandColorProblem(conn.IconBrandColor); problem != "" {
			add("connector.iconBrandColor", "%s", problem)
		}
	}
	if len(conn.Categories) > platform.MaxCategories {
		add("connector.categories", "lists %d categories; the platform allows at most %d (TooManyConnectorCategories)", len(conn.Categories), platform.MaxCategories)
	}
	for i, cat := range conn.Categories {
		switch {
		case !platform.ValidCategory(cat):
			add(fmt.Sprintf("connector.categories[%d]", i), "%q is not a category the platform accepts (InvalidConnectorCategory); use one of %s",
				cat, strings.Join(platform.Categories(), ", "))
		case slices.Index(conn.Categories, cat) < i:
			add(fmt.Sprintf("connector.categories[%d]", i), "%q is listed twice", cat)
		}
	}

	if len(c.Triggers) == 0 {
		add("triggers", "at least one trigger is required")
	}
	c.byName = make(map[string]*Trigger, len(c.Triggers))
	opIDs := map[string]bool{}
	for i, t := range c.Triggers {
		p := fmt.Sprintf("triggers[%d]", i)
		if t == nil {
			add(p, "is empty")
			continue
		}
		if !eventNameRe.MatchString(t.Name) {
			add(p+".name", "%q is not an event type: use lower-case words separated by dots, like order.created", t.Name)
		} else if c.byName[t.Name] != nil {
			add(p+".name", "%q is declared twice", t.Name)
		}
		c.byName[t.Name] = t
		if problem := platform.OperationIDProblem(t.OperationID); problem != "" {
			add(p+".operationId", "%s", problem)
		} else if problem := platform.OperationIDProblem(t.PollingOperationID()); t.Offers(KindPolling) && problem != "" {
			add(p+".operationId", "the polling operationId %s", problem)
		} else if opIDs[t.OperationID] {
			add(p+".operationId", "%q is used by two triggers; operationIds must be unique", t.OperationID)
		}
		opIDs[t.OperationID] = true
		switch {
		case len(t.Kinds) == 0:
			t.Kinds = []Kind{KindWebhook}
		default:
			seen := map[Kind]bool{}
			for j, k := range t.Kinds {
				switch {
				case k != KindWebhook && k != KindPolling:
					add(fmt.Sprintf("%s.kinds[%d]", p, j), "%q is not a kind: use webhook or polling", k)
				case seen[k]:
					add(fmt.Sprintf("%s.kinds[%d]", p, j), "%q is listed twice", k)
				}
				seen[k] = true
			}
		}
		summaryMax := SummaryMaxLen
		if t.Offers(KindPolling) {
			// The polling operation's summary carries a suffix and must
			// fit the same limit.
			summaryMax -= len([]rune(PollingSummarySuffix))
		}
		switch {
		case !strings.HasPrefix(t.Summary, "When "):
			add(p+".summary", "%q must start with \"When \" as the designer lists triggers, like \"When an order is created\"", t.Summary)
		default:
			if problem := platform.SummaryProblem(t.Summary, summaryMax); problem != "" {
				add(p+".summary", "%s", problem)
			}
		}
		if !strings.HasPrefix(t.Description, "This operation triggers when ") {
			add(p+".description", "must start with \"This operation triggers when \"")
		}
		switch t.Mode {
		case "":
			t.Mode = ModeSingle
		case ModeSingle:
		case ModeBatch:
			if t.Batch.Size == 0 {
				t.Batch.Size = BatchSizeDefault
			}
			if t.Batch.Window == 0 {
				t.Batch.Window = Duration(BatchWindowDefault)
			}
			if t.Batch.Size < 1 || t.Batch.Size > BatchSizeMax {
				add(p+".batch.size", "is %d; it must be between 1 and %d", t.Batch.Size, BatchSizeMax)
			}
			if w := time.Duration(t.Batch.Window); w < 0 || w > BatchWindowMax {
				add(p+".batch.window", "is %s; it must be between 0s and %s", w, BatchWindowMax)
			}
		default:
			add(p+".mode", "%q is not a mode: use single or batch", t.Mode)
		}
		if t.Concurrency < 0 || t.Concurrency > ConcurrencyMax {
			add(p+".concurrency", "is %d; it must be between 1 and %d (or left out for the server's default)", t.Concurrency, ConcurrencyMax)
		}
		if t.SchemaDescription == "" {
			t.SchemaDescription = t.OperationID
		}

		schemaDoc, err := validateSchema(t.Schema)
		if err != nil {
			add(p+".schema", "%s", err)
		} else if v, err := compileSchema(t.Name, schemaDoc); err != nil {
			add(p+".schema", "does not compile: %s", err)
		} else {
			t.validator = v
		}

		names := map[string]bool{}
		for j, f := range t.Filters {
			fp := fmt.Sprintf("%s.filters[%d]", p, j)
			switch {
			case !filterNameRe.MatchString(f.Name):
				add(fp+".name", "%q must be letters, digits and _ , starting with a letter", f.Name)
			case reservedBodyFields[f.Name]:
				add(fp+".name", "%q is the registration's own field; choose another name", f.Name)
			case names[f.Name]:
				add(fp+".name", "%q is declared twice", f.Name)
			}
			names[f.Name] = true
			if f.Summary == "" {
				add(fp+".summary", "is required: the field's label in the designer")
			}
			if f.Description == "" {
				add(fp+".description", "is required: it tells the maker what the field does")
			}
			if schemaDoc != nil && !schemaHasPath(schemaDoc, f.FieldPath()) {
				add(fp+".path", "%q is not a property of the trigger's schema", f.FieldPath())
			}
		}
	}
	// A polling operation's derived operationId must not be another
	// trigger's own: both end up in one connector definition.
	for i, t := range c.Triggers {
		if t != nil && t.Offers(KindPolling) && opIDs[t.PollingOperationID()] {
			add(fmt.Sprintf("triggers[%d].kinds", i), "polling needs the operationId %q (the trigger's operationId followed by %q), which another trigger already uses",
				t.PollingOperationID(), PollingOperationIDSuffix)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// swaggerSchemaKeywords are the JSON Schema keywords a Swagger 2.0 schema
// object may hold (https://github.com/microsoft/PowerPlatformConnectors/tree/dev/schemas: the connector schema is
// draft-04 restricted to Swagger's subset), plus the x-ms-* extensions.
var swaggerSchemaKeywords = map[string]bool{
	"$ref": true, "format": true, "title": true, "description": true, "default": true,
	"multipleOf": true, "maximum": true, "exclusiveMaximum": true, "minimum": true,
	"exclusiveMinimum": true, "maxLength": true, "minLength": true, "pattern": true,
	"maxItems": true, "minItems": true, "uniqueItems": true, "maxProperties": true,
	"minProperties": true, "required": true, "enum": true, "type": true, "items": true,
	"allOf": true, "properties": true, "additionalProperties": true, "discriminator": true,
	"readOnly": true, "xml": true, "externalDocs": true, "example": true,
}

// validateSchema checks that raw is a schema the connector definition can
// carry as x-ms-notification-content: Swagger 2.0's subset of draft-04, with
// no $ref (the generator inlines nothing) and a single type per node.
func validateSchema(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("is required: the JSON Schema of the notification body")
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("is not a JSON object: %w", err)
	}
	if err := checkSchemaNode(doc, "schema"); err != nil {
		return nil, err
	}
	return doc, nil
}

func checkSchemaNode(node map[string]any, path string) error {
	for k, v := range node {
		if k == "x-ms-summary" || k == "title" {
			// The designer shows either as the field's label; the
			// platform's summary rules apply to it.
			text, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s.%s: must be a string, the field's label in the designer", path, k)
			}
			if problem := platform.SummaryProblem(text, platform.SummaryMaxLen); problem != "" {
				return fmt.Errorf("%s.%s: %s", path, k, problem)
			}
			continue
		}
		if strings.HasPrefix(k, "x-") {
			continue
		}
		if !swaggerSchemaKeywords[k] {
			return fmt.Errorf("%s: keyword %q is not allowed in a Swagger 2.0 schema", path, k)
		}
		switch k {
		case "$ref":
			return fmt.Errorf("%s: $ref is not supported; write the schema inline", path)
		case "type":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s.type: must be a single type name (Swagger 2.0 has no type arrays)", path)
			}
			switch s {
			case "object", "array", "string", "integer", "number", "boolean":
			default:
				return fmt.Errorf("%s.type: %q is not a Swagger 2.0 type", path, s)
			}
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s.properties: must be an object", path)
			}
			for name, p := range props {
				pm, ok := p.(map[string]any)
				if !ok {
					return fmt.Errorf("%s.properties.%s: must be a schema object", path, name)
				}
				if err := checkSchemaNode(pm, path+".properties."+name); err != nil {
					return err
				}
			}
		case "items", "additionalProperties":
			if m, ok := v.(map[string]any); ok {
				if err := checkSchemaNode(m, path+"."+k); err != nil {
					return err
				}
			} else if _, isBool := v.(bool); !(isBool && k == "additionalProperties") {
				return fmt.Errorf("%s.%s: must be a schema object", path, k)
			}
		case "allOf":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("%s.allOf: must be an array of schemas", path)
			}
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					return fmt.Errorf("%s.allOf[%d]: must be a schema object", path, i)
				}
				if err := checkSchemaNode(m, fmt.Sprintf("%s.allOf[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func schemaHasPath(doc map[string]any, path string) bool {
	node := doc
	for _, seg := range strings.Split(path, ".") {
		props, _ := node["properties"].(map[string]any)
		next, ok := props[seg].(map[string]any)
		if !ok {
			return false
		}
		node = next
	}
	return true
}

// compileSchema compiles a trigger's schema as the platform reads it
// (ECMAScript patterns, Swagger formats; see platform.CompileSchema).
func compileSchema(name string, doc map[string]any) (*jsonschema.Schema, error) {
	// The schema was decoded with encoding/json; re-decode through the
	// library so numbers keep their precision.
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return platform.CompileSchema("triggerd:///catalog/"+name+".json", v)
}

// DataError says where event data breaks its trigger's schema.
type DataError struct {
	// Path is the JSON Pointer of the failing value ("" for the root).
	Path string
	// Message says what is wrong there.
	Message string
}

func (e *DataError) Error() string {
	p := e.Path
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("data%s: %s", strings.TrimSuffix(p, "/"), e.Message)
}

// ValidateData checks one event's data against the trigger's schema and
// returns a *DataError naming the first failing path.
func (t *Trigger) ValidateData(data []byte) error {
	if t.validator == nil {
		return errors.New("catalog: trigger used before Catalog.Validate")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return &DataError{Message: "is not valid JSON: " + err.Error()}
	}
	return t.validateValue(inst)
}

func (t *Trigger) validateValue(inst any) error {
	err := t.validator.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &DataError{Message: err.Error()}
	}
	leaf := deepestCause(ve)
	path := ""
	for _, seg := range leaf.InstanceLocation {
		path += "/" + seg
	}
	return &DataError{Path: path, Message: leaf.ErrorKind.LocalizedString(printer)}
}

func deepestCause(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}

// Match reports whether event data satisfies a subscription's filters. A
// filter the subscription did not set matches everything; a set filter matches
// when the data at its path, as text, equals the value (the designer sends
// every field as a string).
func (t *Trigger) Match(filters map[string]string, data map[string]any) bool {
	for _, f := range t.Filters {
		want, ok := filters[f.Name]
		if !ok || want == "" {
			continue
		}
		got, ok := lookup(data, f.FieldPath())
		if !ok || scalarText(got) != want {
			return false
		}
	}
	return true
}

func lookup(data map[string]any, path string) (any, bool) {
	var cur any = data
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// HintOrDefault returns the trigger hint (x-ms-trigger-hint), deriving one
// from the summary when the catalog gives none.
func (t *Trigger) HintOrDefault() string {
	if t.Hint != "" {
		return t.Hint
	}
	s := strings.TrimPrefix(t.Summary, "When ")
	if s == "" {
		return ""
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return "To see it work, make this happen: " + string(r) + "."
}
