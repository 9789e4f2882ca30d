// Package flow plays the platform's side of a connector trigger on the
// author's machine: it reads a Swagger 2.0 connector definition, subscribes
// to a webhook trigger with a realistic callback URL (or polls a polling
// trigger, or calls a webhook action), receives and validates what the
// publisher sends, and removes the subscription again, reporting every
// departure from the contract that Power Automate and Logic Apps hold
// publishers to:
//
//   - https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger
//   - https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers
//   - https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app
//
// With a lifecycle it replays the subscribe and unsubscribe calls a flow's
// saves, renewals, disables and deletes cause, and with callback faults it
// answers like a throttled, deleted or slow flow. It exists because the
// platform itself says little when a trigger fails
// (https://learn.microsoft.com/power-automate/triggers-troubleshoot).
//
// Run is the whole API: the command line only parses flags into a Config and
// wires signals, so tests drive the same code in-process.
package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults used when a Config field is left zero. They are exported so the
// command line can show them in its help.
const (
	// DefaultListen is where the callback server listens: a free loopback
	// port, so nothing outside the machine can fire the flow.
	DefaultListen = "127.0.0.1:0"

	// DefaultInterval is how long to wait before the next poll when the
	// publisher's response carries no Retry-After. The platform falls back to
	// the flow's recurrence then
	// (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app);
	// 15 s is the interval Microsoft's own polling samples ask for.
	DefaultInterval = 15 * time.Second

	// DefaultRequestTimeout bounds each request flow sends (registration,
	// poll, DELETE), so a hung publisher is reported instead of waited on.
	DefaultRequestTimeout = 30 * time.Second

	// DefaultRetryAfterUnit is the length of one Retry-After unit: the header
	// counts seconds (RFC 9110 §10.2.3).
	DefaultRetryAfterUnit = time.Second

	// DefaultEmitWait is how long a lifecycle step waits for the emitted
	// notification at the current callback: publishers deliver within
	// seconds, and one that needs longer is worth a finding.
	DefaultEmitWait = 30 * time.Second

	// DefaultSettle is how long a lifecycle step keeps listening after the
	// notification it expected, for copies and for deliveries to retired
	// callbacks, which a publisher sends at about the same time.
	DefaultSettle = 2 * time.Second

	// MaxBodyBytes caps how much of a notification or response body is read.
	// The platform's own message limit is 100 MB
	// (https://learn.microsoft.com/power-automate/limits-and-config);
	// anything near this cap is already a defect for a trigger.
	MaxBodyBytes = 16 << 20
)

// Format selects how Run prints what happens.
type Format string

// Output formats.
const (
	// FormatText is for a person at a terminal.
	FormatText Format = "text"
	// FormatJSON prints one JSON object per line, for scripts and CI.
	FormatJSON Format = "json"
)

// Config says which trigger to exercise and how to reach its publisher.
type Config struct {
	// Connector is the connector definition: a file path or an http(s) URL
	// of an apiDefinition.swagger.json.
	Connector string
	// Trigger is the operationId of the trigger operation; leave it empty
	// when Action is set.
	Trigger string
	// Params are the values a maker would type into the trigger's card,
	// keyed by parameter name, or by a dotted path for nested body
	// properties ("properties.filter.kind"). A key may be qualified with
	// where the parameter lives ("query:events", "body:events") when a name
	// is used twice.
	Params map[string]string
	// APIKey is the connection's API key, placed where the definition's
	// apiKey security scheme says (header or query).
	APIKey string
	// Header holds extra headers sent with every request to the publisher;
	// basic and OAuth connections put their Authorization header here.
	Header http.Header
	// BaseURL replaces the definition's schemes[0]://host+basePath.
	BaseURL string
	// Listen is the callback server's address (DefaultListen when empty).
	Listen string
	// CallbackURL, when set, replaces scheme, host and any path prefix of the
	// callback URL handed to the publisher, for tunnels; the generated
	// /workflows/… path and signed query are appended to it.
	CallbackURL string
	// Runs stops after this many runs when positive.
	Runs int
	// Timeout stops after this long when positive.
	Timeout time.Duration
	// MinInterval is the shortest wait between polls: a Retry-After below it
	// is raised to it. Zero honours Retry-After exactly.
	MinInterval time.Duration
	// Interval is the wait between polls when a response carries no
	// Retry-After (DefaultInterval when zero).
	Interval time.Duration
	// SplitOn, when set, forces the platform's split-on on (one run per
	// array item) or off (one run for the whole array). Left nil it follows
	// the platform: on for array payloads.
	SplitOn *bool
	// Format selects text or JSON-lines output (text when empty).
	Format Format
	// Output receives the progress; io.Discard when nil.
	Output io.Writer
	// HTTPClient sends the requests to the publisher. Nil means a client
	// with DefaultRequestTimeout that does not follow redirects (a redirect
	// from a registration endpoint is a deviation worth seeing).
	HTTPClient *http.Client
	// RetryAfterUnit is the length of one Retry-After unit
	// (DefaultRetryAfterUnit when zero). Tests shrink it so a publisher's
	// real "Retry-After: 1" costs microseconds.
	RetryAfterUnit time.Duration
	// OnListen, when set, is called once the callback server is up, before
	// the registration is sent, with the listener's address and the callback
	// URL handed to the publisher.
	OnListen func(addr net.Addr, callbackURL string)
	// OnSubscribed, when set, is called once a webhook registration has
	// succeeded, with the absolute Location ("" when the publisher sent
	// none). Tests and scripts publish their events from here.
	OnSubscribed func(location string)

	// Action, instead of Trigger, names a webhook action ("send and wait
	// for a response": an operation without x-ms-trigger whose body has an
	// x-ms-notification-url property). flow calls it, waits for its one
	// callback and validates that.
	Action string

	// Lifecycle, when set, replaces the single subscribe-wait-unsubscribe
	// with this sequence of flow events (ParseLifecycle reads "save,renew,…"
	// and the "platform" preset).
	Lifecycle []Step
	// EmitCmd is a shell command run after each lifecycle step to make the
	// publisher send one notification (e.g. "triggerd publish …"). It runs
	// with TRIGGERD_FLOW_STEP set to the step's name.
	EmitCmd string
	// EmitURL is POSTed to after each lifecycle step, with EmitBody and the
	// connection's credentials, for a publisher whose API emits a test event.
	EmitURL string
	// EmitBody is the JSON body sent to EmitURL ("{}" when empty).
	EmitBody string
	// EmitWait bounds how long flow waits for the emitted notification to
	// reach the current callback (DefaultEmitWait when zero).
	EmitWait time.Duration
	// Settle is how long flow keeps listening after the expected
	// notification (or after EmitWait) for copies and for notifications to
	// retired callbacks (DefaultSettle when zero).
	Settle time.Duration

	// CallbackStatus, when set, is what the callback answers notifications
	// instead of 202: 429 (the platform throttling), 404 (a deleted flow),
	// 500 (an engine failure).
	CallbackStatus int
	// CallbackRetryAfter is sent as Retry-After with a CallbackStatus
	// answer, in whole seconds.
	CallbackRetryAfter time.Duration
	// CallbackDelay makes the callback wait this long before it answers.
	CallbackDelay time.Duration
	// FaultCount limits CallbackStatus and CallbackDelay to the first N
	// notifications; zero means all.
	FaultCount int
}

// Kind says how the platform drives a trigger.
type Kind string

// Trigger kinds.
const (
	// KindWebhook triggers subscribe with a callback URL and are pushed to.
	KindWebhook Kind = "webhook"
	// KindPolling triggers are called repeatedly
	// (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
	KindPolling Kind = "polling"
	// KindAction is a webhook action: called once with a callback URL, it
	// waits for the one callback (send and wait for a response).
	KindAction Kind = "action"
)

// Severity grades a Deviation.
type Severity string

// Severities.
const (
	// Info marks something worth knowing that the platform copes with, such
	// as a definition that relies on a platform default it should declare.
	Info Severity = "info"
	// Warning marks something the platform tolerates but that departs from
	// the documented contract or is likely to bite later.
	Warning Severity = "warning"
	// Error marks something that breaks the trigger on the platform; any
	// Error makes Report.Failed true (and the command exit 1).
	Error Severity = "error"
)

// Deviation is one finding: a departure from the platform's contract, or
// (severity Info) a fact about how the platform will treat the definition.
type Deviation struct {
	Severity Severity `json:"severity"`
	// Code is a stable identifier, e.g. "missing-location".
	Code string `json:"code"`
	// Stage is where it happened: definition, register, callback, validate,
	// poll, delete or run.
	Stage string `json:"stage"`
	// Message explains what happened and what the platform would do.
	Message string `json:"message"`
}

// SchemaError is one place where a payload breaks its declared schema.
type SchemaError struct {
	// Path is the JSON Pointer of the failing value ("/" for the root).
	Path string `json:"path"`
	// Message says what is wrong there.
	Message string `json:"message"`
}

// RunRecord is one run the platform would have started.
type RunRecord struct {
	// Number counts runs from 1.
	Number int `json:"run"`
	// Received is when the notification or poll response arrived.
	Received time.Time `json:"received"`
	// Source counts the notifications (or poll responses) from 1; several
	// runs share one when split-on divides an array.
	Source int `json:"source"`
	// Item is the array index the run was split from, or -1.
	Item int `json:"item"`
	// Body is the trigger body the run starts with.
	Body any `json:"body"`
	// Headers are the notification's headers (webhooks only).
	Headers map[string]string `json:"headers,omitempty"`
	// Valid is false when Body broke the schema it was checked against. It
	// is true when Body matched, and also when it could not be checked.
	Valid bool `json:"valid"`
	// Checked reports whether Body was validated at all: false when the
	// definition declares no schema, the schema does not compile, or an
	// x-ms-dynamic-schema could not be resolved.
	Checked bool `json:"checked"`
	// Unchecked says why Body was not checked.
	Unchecked string `json:"unchecked,omitempty"`
	// Errors lists every mismatch with its path.
	Errors []SchemaError `json:"errors,omitempty"`
}

// Report is what happened, for the exit status and for tests.
type Report struct {
	// Kind is the trigger's kind.
	Kind Kind
	// Trigger is the operationId.
	Trigger string
	// CallbackURL is the URL handed to the publisher (webhooks).
	CallbackURL string
	// Location is the absolute unsubscribe URL the publisher returned.
	Location string
	// DeleteStatus is the status of the unsubscribe DELETE, 0 if none was sent.
	DeleteStatus int
	// Runs lists every run in order.
	Runs []RunRecord
	// Deviations lists every finding in order.
	Deviations []Deviation
	// Steps lists the lifecycle steps, in order (empty without Lifecycle).
	Steps []StepRecord
	// Faults lists what the publisher did with each notification that got
	// an injected fault.
	Faults []FaultRecord
}

// Failed reports whether anything broke the contract: a failed or
// Location-less registration, a notification or poll item that did not
// match its schema, a failed DELETE, or a polling error.
func (r *Report) Failed() bool {
	for _, d := range r.Deviations {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns the deviations of severity Error.
func (r *Report) Errors() []Deviation { return r.filter(Error) }

// Warnings returns the deviations of severity Warning.
func (r *Report) Warnings() []Deviation { return r.filter(Warning) }

func (r *Report) filter(s Severity) []Deviation {
	var out []Deviation
	for _, d := range r.Deviations {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Has reports whether a deviation with this code was recorded.
func (r *Report) Has(code string) bool {
	for _, d := range r.Deviations {
		if d.Code == code {
			return true
		}
	}
	return false
}

// Run exercises one trigger until ctx is cancelled (Ctrl-C), Config.Runs runs
// have happened, or Config.Timeout passes, then unsubscribes. The error is
// for a flow that could not start (unreadable definition, unknown trigger,
// missing parameter, busy port); everything the publisher does wrong is in
// the Report, with Report.Failed telling whether to exit non-zero.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = withDefaults(cfg)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	def, err := loadDefinition(ctx, cfg.Connector, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	var t *trigger
	if cfg.Action != "" {
		t, err = def.action(cfg.Action)
		// One callback completes an action.
		cfg.Runs = 1
	} else {
		t, err = def.trigger(cfg.Trigger)
	}
	if err != nil {
		return nil, err
	}
	if len(cfg.Lifecycle) > 0 {
		if t.kind != KindWebhook {
			return nil, fmt.Errorf("flow: --lifecycle plays a webhook trigger's subscriptions; %s is a %s trigger", t.op.OperationID, t.kind)
		}
		// The steps, not a run count, decide when a lifecycle ends.
		cfg.Runs = 0
	}
	base, err := def.baseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	s := &session{
		cfg:    cfg,
		def:    def,
		t:      t,
		base:   base,
		out:    newPrinter(cfg.Output, cfg.Format),
		report: &Report{Kind: t.kind, Trigger: t.op.OperationID},
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	if t.kind != KindPolling {
		err = s.webhook(ctx)
	} else {
		err = s.poll(ctx)
	}
	if err != nil {
		return nil, err
	}
	s.out.summary(s.report)
	return s.report, s.out.err
}

// check refuses contradictory settings before anything is sent.
func (cfg *Config) check() error {
	switch {
	case cfg.Trigger != "" && cfg.Action != "":
		return fmt.Errorf("flow: give --trigger or --action, not both")
	case cfg.Trigger == "" && cfg.Action == "":
		return fmt.Errorf("flow: no operation: pass --trigger OPERATION_ID (or --action OPERATION_ID for a webhook action)")
	case cfg.Action != "" && len(cfg.Lifecycle) > 0:
		return fmt.Errorf("flow: --lifecycle applies to triggers; an action subscribes once per run")
	case cfg.EmitCmd != "" && cfg.EmitURL != "":
		return fmt.Errorf("flow: give --emit-cmd or --emit-url, not both")
	case (cfg.EmitCmd != "" || cfg.EmitURL != "") && len(cfg.Lifecycle) == 0:
		return fmt.Errorf("flow: --emit-cmd and --emit-url run after each --lifecycle step; without --lifecycle, publish from another terminal")
	case cfg.CallbackStatus != 0 && (cfg.CallbackStatus < 200 || cfg.CallbackStatus > 599):
		return fmt.Errorf("flow: --callback-status %d is not an HTTP status", cfg.CallbackStatus)
	case cfg.CallbackRetryAfter < 0 || cfg.CallbackDelay < 0 || cfg.FaultCount < 0:
		return fmt.Errorf("flow: --callback-retry-after, --callback-delay and --fault-count cannot be negative")
	case cfg.CallbackRetryAfter > 0 && cfg.CallbackStatus == 0:
		return fmt.Errorf("flow: --callback-retry-after goes with --callback-status (429 or 503, say)")
	case cfg.FaultCount > 0 && cfg.CallbackStatus == 0 && cfg.CallbackDelay == 0:
		return fmt.Errorf("flow: --fault-count limits --callback-status or --callback-delay; give one of them")
	}
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.RetryAfterUnit <= 0 {
		cfg.RetryAfterUnit = DefaultRetryAfterUnit
	}
	if cfg.Format == "" {
		cfg.Format = FormatText
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: DefaultRequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.Header == nil {
		cfg.Header = http.Header{}
	}
	if cfg.EmitWait <= 0 {
		cfg.EmitWait = DefaultEmitWait
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.EmitBody == "" {
		cfg.EmitBody = "{}"
	}
	return cfg
}

// session holds one Run's state.
type session struct {
	cfg  Config
	def  *definition
	t    *trigger
	base string
	out  *printer

	// callbackBase and workflowID make every registration's callback URL.
	callbackBase string
	workflowID   string
	recv         *receiver
	// seenRoute is set once the Location's route has been checked.
	seenRoute bool

	mu     sync.Mutex // guards report and regs: callbacks arrive concurrently
	report *Report
	regs   []*registration
}

// deviate records and prints a deviation.
func (s *session) deviate(sev Severity, stage, code, format string, args ...any) {
	d := Deviation{Severity: sev, Code: code, Stage: stage, Message: fmt.Sprintf(format, args...)}
	s.mu.Lock()
	s.report.Deviations = append(s.report.Deviations, d)
	s.mu.Unlock()
	s.out.deviation(d)
}

// deviateOnce records a deviation only the first time its code occurs, so a
// polling loop does not repeat one warning every cycle.
func (s *session) deviateOnce(sev Severity, stage, code, format string, args ...any) {
	if s.seen(code) {
		return
	}
	s.deviate(sev, stage, code, format, args...)
}

// seen reports whether a deviation with this code was recorded.
func (s *session) seen(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report.Has(code)
}

// isDeadline tells a --timeout stop from a Ctrl-C.
func isDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
