package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/triggerd/triggerd/internal/flow"
)

// flowCmd only turns flags into a flow.Config and wires Ctrl-C; the work is
// in internal/flow.
type flowCmd struct {
	Connector   string        `required:"" placeholder:"FILE|URL" help:"Connector definition (apiDefinition.swagger.json): a file or an http(s) URL such as http://127.0.0.1:8080/v1/openapi.json."`
	Trigger     string        `placeholder:"OPERATION_ID" xor:"op" required:"" help:"operationId of the trigger operation."`
	Action      string        `placeholder:"OPERATION_ID" xor:"op" required:"" help:"operationId of a webhook action (send and wait for a response) to call instead of a trigger: flow waits for its one callback and validates it."`
	Param       []string      `short:"p" sep:"none" placeholder:"NAME=VALUE" help:"A value a maker would type into the trigger card; repeat for more. NAME is the parameter or body property name, a dotted path for nested body properties, or IN:NAME (query:events) when a name is used twice."`
	APIKey      string        `name:"api-key" env:"TRIGGERD_API_KEY" help:"The connection's API key, sent where the definition's apiKey security scheme says."`
	Header      []string      `short:"H" sep:"none" placeholder:"\"NAME: VALUE\"" help:"Extra header for every request to the publisher (basic and OAuth connections pass Authorization here); repeat for more."`
	BaseURL     string        `name:"base-url" placeholder:"URL" help:"Publisher base URL (default: the definition's schemes[0]://host+basePath)."`
	Listen      string        `placeholder:"ADDR" help:"Address of the callback server (default 127.0.0.1:0, a free loopback port)."`
	CallbackURL string        `name:"callback-url" placeholder:"URL" help:"Base URL handed to the publisher instead of the listener's, for a tunnel; the /workflows/… path and signed query are appended."`
	Runs        int           `placeholder:"N" help:"Stop after N runs (default: run until Ctrl-C or --timeout)."`
	Timeout     time.Duration `placeholder:"DURATION" help:"Stop after this long (default: none)."`
	MinInterval time.Duration `name:"min-interval" placeholder:"DURATION" help:"Polling: never poll sooner than this, even if Retry-After says so (default 0: honour Retry-After exactly)."`
	Interval    time.Duration `placeholder:"DURATION" help:"Polling: the flow's recurrence, used when a response has no Retry-After (default 15s)."`
	SplitOn     *bool         `name:"split-on" placeholder:"true|false" help:"One run per array item (default: as the platform does, on for array payloads)."`
	Format      string        `default:"text" enum:"text,json" help:"Output: text, or json (one object per line)."`

	Lifecycle string        `placeholder:"STEPS" help:"Play a flow's life instead of one subscription: save, renew, disable, enable and delete, comma-separated, or 'platform' (save,save,renew,disable,enable,delete). save/renew/enable register a new callback then DELETE the previous registration; disable/delete DELETE the current one."`
	EmitCmd   string        `name:"emit-cmd" placeholder:"COMMAND" help:"With --lifecycle: shell command run after each step to make the publisher send one notification (TRIGGERD_FLOW_STEP names the step)."`
	EmitURL   string        `name:"emit-url" placeholder:"URL" help:"With --lifecycle: URL POSTed after each step (with --emit-body and the connection's credentials) to make the publisher send one notification."`
	EmitBody  string        `name:"emit-body" placeholder:"JSON" help:"Body for --emit-url (default {})."`
	EmitWait  time.Duration `name:"emit-wait" placeholder:"DURATION" help:"How long to wait for an emitted notification at the current callback (default 30s)."`
	Settle    time.Duration `placeholder:"DURATION" help:"How long to keep listening after it for copies and for deliveries to retired callbacks (default 2s)."`

	CallbackStatus     int           `name:"callback-status" placeholder:"STATUS" help:"Answer notifications with this status instead of 202: 429 (throttled), 404 (flow deleted), 500 (engine failure)."`
	CallbackRetryAfter time.Duration `name:"callback-retry-after" placeholder:"DURATION" help:"Send Retry-After (whole seconds) with --callback-status."`
	CallbackDelay      time.Duration `name:"callback-delay" placeholder:"DURATION" help:"Wait this long before answering a notification (a slow callback)."`
	FaultCount         int           `name:"fault-count" placeholder:"N" help:"Apply --callback-status/--callback-delay to the first N notifications only (default: all)."`
}

// flowFailed makes a run that broke the contract exit 1 after its report.
type flowFailed struct{ summary string }

func (e flowFailed) Error() string { return e.summary }
func (e flowFailed) ExitCode() int { return 1 }

// flowCannotRun makes a flow that could not run (bad flags, unreadable
// definition, unknown operation, busy port) exit 2, apart from findings.
type flowCannotRun struct{ err error }

func (e flowCannotRun) Error() string { return e.err.Error() }
func (e flowCannotRun) Unwrap() error { return e.err }
func (e flowCannotRun) ExitCode() int { return 2 }

func (c *flowCmd) Run() error {
	cfg, err := c.config()
	if err != nil {
		return flowCannotRun{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first Ctrl-C flow sends the DELETE; a second one
		// should kill the process as usual.
		<-ctx.Done()
		stop()
	}()
	rep, err := flow.Run(ctx, cfg)
	if err != nil {
		return flowCannotRun{err}
	}
	if rep.Failed() {
		return flowFailed{fmt.Sprintf("flow: the trigger broke the platform's contract (%d error(s), see above)", len(rep.Errors()))}
	}
	return nil
}

func (c *flowCmd) config() (flow.Config, error) {
	cfg := flow.Config{
		Connector:   c.Connector,
		Trigger:     c.Trigger,
		Action:      c.Action,
		Params:      map[string]string{},
		APIKey:      c.APIKey,
		Header:      http.Header{},
		BaseURL:     c.BaseURL,
		Listen:      c.Listen,
		CallbackURL: c.CallbackURL,
		Runs:        c.Runs,
		Timeout:     c.Timeout,
		MinInterval: c.MinInterval,
		Interval:    c.Interval,
		SplitOn:     c.SplitOn,
		Format:      flow.Format(c.Format),
		Output:      os.Stdout,

		EmitCmd:            c.EmitCmd,
		EmitURL:            c.EmitURL,
		EmitBody:           c.EmitBody,
		EmitWait:           c.EmitWait,
		Settle:             c.Settle,
		CallbackStatus:     c.CallbackStatus,
		CallbackRetryAfter: c.CallbackRetryAfter,
		CallbackDelay:      c.CallbackDelay,
		FaultCount:         c.FaultCount,
	}
	if c.Lifecycle != "" {
		steps, err := flow.ParseLifecycle(c.Lifecycle)
		if err != nil {
			return cfg, err
		}
		cfg.Lifecycle = steps
	}
	for _, p := range c.Param {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return cfg, fmt.Errorf("flow: --param %q: write NAME=VALUE", p)
		}
		cfg.Params[name] = value
	}
	for _, h := range c.Header {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return cfg, fmt.Errorf("flow: --header %q: write \"Name: value\"", h)
		}
		cfg.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return cfg, nil
}
