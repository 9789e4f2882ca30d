// Package flow plays the platform's side of a connector trigger on the
// author's machine: it reads a Swagger 2.0 connector definition, subscribes
// to a webhook trigger with a realistic callback URL (or polls a polling
// trigger), receives and validates what the publisher sends, and removes the
// subscription again, reporting every departure from the contract that Power
// Automate and Logic Apps hold publishers to (power-platform-triggers.md §1,
// §2). It exists because the platform itself says little when a trigger
// fails (trigger-pain-points.md §4.2, §6).
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
	// the flow's recurrence then (power-platform-triggers.md §2.1); 15 s is
	// the interval Microsoft's own polling samples ask for.
	DefaultInterval = 15 * time.Second

	// DefaultRequestTimeout bounds each request flow sends (registration,
	// poll, DELETE), so a hung publisher is reported instead of waited on.
	DefaultRequestTimeout = 30 * time.Second

	// DefaultRetryAfterUnit is the length of one Retry-After unit: the header
	// counts seconds (RFC 9110 §10.2.3).
	DefaultRetryAfterUnit = time.Second

	// MaxBodyBytes caps how much of a notification or response body is read.
	// The platform's own message limit is 100 MB (power-platform-triggers.md
	// §1.9); anything near this cap is already a defect for a trigger.
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
	// Trigger is the operationId of the trigger operation.
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
}

// Kind says how the platform drives a trigger.
type Kind string

// Trigger kinds.
const (
	// KindWebhook triggers subscribe with a callback URL and are pushed to.
	KindWebhook Kind = "webhook"
	// KindPolling triggers are called repeatedly (power-platform-triggers.md §2).
	KindPolling Kind = "polling"
)

// Severity grades a Deviation.
type Severity string

// Severities.
const (
	// Warning marks something the platform tolerates but that departs from
	// the documented contract or is likely to bite later.
	Warning Severity = "warning"
	// Failure marks something that breaks the trigger on the platform; any
	// Failure makes Report.Failed true.
	Failure Severity = "failure"
)

// Deviation is one departure from the platform's contract.
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
	// Valid reports whether Body matches the declared schema; it is also
	// true when the definition declares no schema to check.
	Valid bool `json:"valid"`
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
	// Deviations lists every departure from the contract in order.
	Deviations []Deviation
}

// Failed reports whether anything broke the contract: a failed or
// Location-less registration, a notification or poll item that did not
// match its schema, a failed DELETE, or a polling error.
func (r *Report) Failed() bool {
	for _, d := range r.Deviations {
		if d.Severity == Failure {
			return true
		}
	}
	return false
}

// Failures returns the Failure deviations.
func (r *Report) Failures() []Deviation { return r.filter(Failure) }

// Warnings returns the Warning deviations.
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
	def, err := loadDefinition(ctx, cfg.Connector, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	t, err := def.trigger(cfg.Trigger)
	if err != nil {
		return nil, err
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
	if t.kind == KindWebhook {
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
	return cfg
}

// session holds one Run's state.
type session struct {
	cfg  Config
	def  *definition
	t    *trigger
	base string
	out  *printer

	mu     sync.Mutex // guards report: callbacks arrive concurrently
	report *Report
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
