package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/httpapi"
)

// apiFlags select the API a client command talks to.
type apiFlags struct {
	URL    string `name:"url" env:"TRIGGERD_URL" default:"http://127.0.0.1:8080" help:"Base URL of the triggerd API."`
	APIKey string `name:"api-key" env:"TRIGGERD_API_KEY" required:"" help:"API key of the tenant."`
	JSON   bool   `name:"json" help:"Print the API's JSON answer as is, for scripts."`
}

// call makes an API request and returns its body; an answer other than 2xx
// is an error carrying the API's message.
func (f apiFlags) call(method, path string, query url.Values, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(f.URL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(triggerd.APIKeyHeader, f.APIKey)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is triggerd serving at --url %s?)", method, path, err, f.URL)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, e.Error.Code, e.Error.Message)
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return raw, nil
}

// print writes raw as is with --json, or decodes it into v and renders it
// as a table for people.
func (f apiFlags) print(raw []byte, v any, table func(w *tabwriter.Writer)) error {
	if f.JSON {
		_, err := os.Stdout.Write(raw)
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode the API's answer: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	table(w)
	return w.Flush()
}

type pageFlags struct {
	Limit  int    `help:"Items per page (1 to 1000; the API's default is 100)."`
	Cursor string `help:"The next cursor a previous page printed."`
}

func (p pageFlags) query() url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

func printNext(w io.Writer, next string) {
	if next != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", next)
	}
}

type webhooksCmd struct {
	List      webhooksListCmd      `cmd:"" help:"List the tenant's subscriptions, a page at a time."`
	Show      webhooksShowCmd      `cmd:"" help:"Show one subscription with its latest attempts."`
	Attempts  webhooksAttemptsCmd  `cmd:"" help:"List a subscription's attempts, newest first."`
	Redeliver webhooksRedeliverCmd `cmd:"" help:"Send a window of events, or one event, to a subscription again."`
	Enable    webhooksEnableCmd    `cmd:"" help:"Enable a subscription (its consecutive failures reset)."`
	Disable   webhooksDisableCmd   `cmd:"" help:"Disable a subscription: it receives nothing until enabled."`
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func writeAttempts(w io.Writer, as []httpapi.AttemptView) {
	fmt.Fprintln(w, "ATTEMPT ID\tSTARTED\tN\tOUTCOME\tSTATUS\tLATENCY\tWEBHOOK-ID\tERROR")
	for _, a := range as {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%d\t%.0fms\t%s\t%s\n", a.ID, when(&a.StartedAt), a.Attempt, a.Outcome, a.Status, a.LatencyMillis, a.WebhookID, a.Error)
	}
}

type webhooksListCmd struct {
	apiFlags
	pageFlags
}

func (c *webhooksListCmd) Run() error {
	raw, err := c.call(http.MethodGet, "/v1/webhooks", c.query(), nil)
	if err != nil {
		return err
	}
	var page struct {
		Webhooks []httpapi.SubscriptionView `json:"webhooks"`
		Next     string                     `json:"next"`
	}
	return c.print(raw, &page, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tTRIGGER\tSTATE\tREASON\tFAILURES\tLAST STATUS\tLAST ATTEMPT")
		for _, s := range page.Webhooks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, s.Trigger, s.State, s.StateReason, s.ConsecutiveFailures, s.LastStatus, when(s.LastAttemptAt))
		}
		printNext(w, page.Next)
	})
}

type webhooksShowCmd struct {
	apiFlags
	ID string `arg:"" help:"Subscription id (sub_…)."`
}

func (c *webhooksShowCmd) Run() error {
	raw, err := c.call(http.MethodGet, "/v1/webhooks/"+url.PathEscape(c.ID), nil, nil)
	if err != nil {
		return err
	}
	var s httpapi.SubscriptionView
	return c.print(raw, &s, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "id\t%s\ntrigger\t%s\nstate\t%s %s\ncreated\t%s\nconsecutive failures\t%d\nlast status\t%d\n\n",
			s.ID, s.Trigger, s.State, s.StateReason, when(&s.CreatedAt), s.ConsecutiveFailures, s.LastStatus)
		writeAttempts(w, s.Attempts)
	})
}

type webhooksAttemptsCmd struct {
	apiFlags
	pageFlags
	ID      string `arg:"" help:"Subscription id (sub_…)."`
	Outcome string `enum:",delivered,retry,failed,gone" default:"" help:"Only attempts with this outcome: delivered, retry, failed or gone."`
}

func (c *webhooksAttemptsCmd) Run() error {
	q := c.query()
	if c.Outcome != "" {
		q.Set("outcome", c.Outcome)
	}
	raw, err := c.call(http.MethodGet, "/v1/webhooks/"+url.PathEscape(c.ID)+"/attempts", q, nil)
	if err != nil {
		return err
	}
	var page struct {
		Attempts []httpapi.AttemptView `json:"attempts"`
		Next     string                `json:"next"`
	}
	return c.print(raw, &page, func(w *tabwriter.Writer) {
		writeAttempts(w, page.Attempts)
		printNext(w, page.Next)
	})
}

type webhooksRedeliverCmd struct {
	apiFlags
	ID    string    `arg:"" help:"Subscription id (sub_…)."`
	Event string    `help:"Send this one event (id or idempotency key) again, delivered before or not."`
	Since time.Time `help:"Start of the window (RFC 3339, e.g. 2026-01-02T15:04:05Z)."`
	Until time.Time `help:"End of the window (RFC 3339; default now)."`
	Only  string    `enum:"failed,all" default:"failed" help:"failed: only events without a delivered attempt; all: every event of the window."`
}

func (c *webhooksRedeliverCmd) Run() error {
	path := "/v1/webhooks/" + url.PathEscape(c.ID)
	var body any
	switch {
	case c.Event != "":
		path += "/events/" + url.PathEscape(c.Event) + "/redeliver"
	case c.Since.IsZero():
		return fmt.Errorf("give --since (a window's start, RFC 3339) or --event (one event)")
	default:
		path += "/redeliver"
		req := map[string]any{"since": c.Since, "only": c.Only}
		if !c.Until.IsZero() {
			req["until"] = c.Until
		}
		body = req
	}
	raw, err := c.call(http.MethodPost, path, nil, body)
	if err != nil {
		return err
	}
	var out struct{ Queued, Pruned int }
	return c.print(raw, &out, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "queued %d\n", out.Queued)
		if out.Pruned > 0 {
			fmt.Fprintf(w, "%d events of the window are past the event retention and cannot be sent again\n", out.Pruned)
		}
	})
}

type webhooksStateCmd struct {
	apiFlags
	ID string `arg:"" help:"Subscription id (sub_…)."`
}

type webhooksEnableCmd struct{ webhooksStateCmd }

func (c *webhooksEnableCmd) Run() error { return c.set("active") }

type webhooksDisableCmd struct{ webhooksStateCmd }

func (c *webhooksDisableCmd) Run() error { return c.set("inactive") }

func (c *webhooksStateCmd) set(state string) error {
	raw, err := c.call(http.MethodPatch, "/v1/webhooks/"+url.PathEscape(c.ID), nil, map[string]string{"state": state})
	if err != nil {
		return err
	}
	var s httpapi.SubscriptionView
	return c.print(raw, &s, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "%s\t%s %s\n", s.ID, s.State, s.StateReason)
	})
}

type eventsCmd struct {
	List eventsListCmd `cmd:"" help:"List the tenant's events, newest first."`
	Show eventsShowCmd `cmd:"" help:"Show one event (id or idempotency key) and its delivery to each subscription."`
}

type eventsListCmd struct {
	apiFlags
	pageFlags
	Trigger string    `help:"Only events of this trigger."`
	Since   time.Time `help:"Only events created at or after this time (RFC 3339)."`
	Until   time.Time `help:"Only events created before this time (RFC 3339)."`
}

func (c *eventsListCmd) Run() error {
	q := c.query()
	if c.Trigger != "" {
		q.Set("trigger", c.Trigger)
	}
	if !c.Since.IsZero() {
		q.Set("since", c.Since.Format(time.RFC3339Nano))
	}
	if !c.Until.IsZero() {
		q.Set("until", c.Until.Format(time.RFC3339Nano))
	}
	raw, err := c.call(http.MethodGet, "/v1/events", q, nil)
	if err != nil {
		return err
	}
	var page struct {
		Events []httpapi.EventView `json:"events"`
		Next   string              `json:"next"`
	}
	return c.print(raw, &page, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tTYPE\tIDEMPOTENCY KEY\tCREATED")
		for _, e := range page.Events {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.ID, e.Type, e.IdempotencyKey, when(&e.CreatedAt))
		}
		printNext(w, page.Next)
	})
}

type eventsShowCmd struct {
	apiFlags
	ID string `arg:"" help:"Event id (evt_…) or idempotency key."`
}

func (c *eventsShowCmd) Run() error {
	raw, err := c.call(http.MethodGet, "/v1/events/"+url.PathEscape(c.ID), nil, nil)
	if err != nil {
		return err
	}
	var e httpapi.EventView
	return c.print(raw, &e, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "id\t%s\ntype\t%s\nidempotency key\t%s\ncreated\t%s\ndata\t%s\n\n", e.ID, e.Type, e.IdempotencyKey, when(&e.CreatedAt), e.Data)
		fmt.Fprintln(w, "SUBSCRIPTION\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ATTEMPT\tLAST ERROR")
		for _, d := range e.Deliveries {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", d.SubscriptionID, d.State, d.Attempts, d.LastStatus, when(&d.LastAttemptAt), d.LastError)
		}
	})
}
