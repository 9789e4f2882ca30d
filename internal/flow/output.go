package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// printer writes progress as text for a terminal or as JSON lines. Callback
// handlers print concurrently, so every write holds mu; the first write error
// is kept and returned by Run.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	err  error
}

func newPrinter(w io.Writer, f Format) *printer {
	return &printer{w: w, json: f == FormatJSON}
}

// maxPrintedBody bounds how much of one body a terminal gets.
const maxPrintedBody = 64 << 10

func (p *printer) emit(event string, fields map[string]any, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	if p.json {
		obj := map[string]any{"event": event}
		for k, v := range fields {
			obj[k] = v
		}
		b, err := marshal(obj)
		if err != nil {
			p.err = fmt.Errorf("flow: encode %s event: %w", event, err)
			return
		}
		_, p.err = p.w.Write(append(b, '\n'))
		return
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, p.err = io.WriteString(p.w, text)
}

func (p *printer) trigger(d *definition, t *trigger, base string) {
	hint := extString(t.op.Extensions, "x-ms-trigger-hint")
	text := fmt.Sprintf("%s · %s %q\n  %s trigger (x-ms-trigger: %s), %s %s, publisher %s",
		d.title(), t.op.OperationID, t.summary(), t.kind, t.mode, t.method, t.path, base)
	if t.kind == KindAction {
		text = fmt.Sprintf("%s · %s %q\n  webhook action (send and wait for a response), %s %s, publisher %s",
			d.title(), t.op.OperationID, t.summary(), t.method, t.path, base)
	}
	if hint != "" {
		text += "\n  hint: " + hint
	}
	p.emit("trigger", map[string]any{
		"connector": d.title(), "operationId": t.op.OperationID, "summary": t.summary(),
		"kind": t.kind, "mode": t.mode, "method": t.method, "path": t.path, "baseUrl": base, "hint": hint,
	}, text)
}

func (p *printer) request(method, url string, body []byte) {
	text := "→ " + method + " " + url
	fields := map[string]any{"method": method, "url": url}
	if body != nil {
		text += "\n" + indentBody(body)
		fields["body"] = json.RawMessage(compact(body))
	}
	p.emit("request", fields, text)
}

func (p *printer) response(r *response) {
	text := "← " + r.text
	fields := map[string]any{"status": r.status}
	for _, h := range []string{"Location", "Retry-After"} {
		if v := r.header.Get(h); v != "" {
			text += "  " + h + ": " + v
			fields[strings.ToLower(h[:1])+strings.ReplaceAll(h[1:], "-", "")] = v
		}
	}
	if len(bytes.TrimSpace(r.body)) > 0 && (r.status < 200 || r.status > 299) {
		text += "\n  " + excerpt(r.body)
		fields["body"] = excerpt(r.body)
	}
	p.emit("response", fields, text)
}

func (p *printer) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.emit("note", map[string]any{"message": msg}, "  "+msg)
}

func (p *printer) deviation(d Deviation) {
	mark := "!"
	switch d.Severity {
	case Error:
		mark = "✗"
	case Info:
		mark = "i"
	}
	p.emit("finding", map[string]any{
		"severity": d.Severity, "code": d.Code, "stage": d.Stage, "message": d.Message,
	}, fmt.Sprintf("%s %s [%s] %s", mark, d.Severity, d.Code, d.Message))
}

func (p *printer) run(r RunRecord) {
	var b strings.Builder
	fmt.Fprintf(&b, "run %d · %s · payload %d", r.Number, r.Received.Format(time.RFC3339Nano), r.Source)
	if r.Item >= 0 {
		fmt.Fprintf(&b, " item %d", r.Item)
	}
	if ct := r.Headers[http.CanonicalHeaderKey("Content-Type")]; ct != "" {
		fmt.Fprintf(&b, " · %s", ct)
	}
	body, err := marshal(r.Body)
	if err != nil {
		body = []byte(fmt.Sprint(r.Body))
	}
	b.WriteString("\n" + indentBody(body) + "\n")
	switch {
	case !r.Checked:
		b.WriteString("  ? NOT checked: " + r.Unchecked)
	case r.Valid:
		b.WriteString("  ✓ matches the schema")
	default:
		fmt.Fprintf(&b, "  ✗ %d schema mismatch(es):", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "\n    %s: %s", e.Path, e.Message)
		}
	}
	p.emit("run", map[string]any{
		"run": r.Number, "received": r.Received, "source": r.Source, "item": r.Item,
		"body": r.Body, "headers": r.Headers, "valid": r.Valid, "checked": r.Checked, "unchecked": r.Unchecked,
		"errors": nonNil(r.Errors),
	}, b.String())
}

func (p *printer) summary(r *Report) {
	// Run calls this after every handler has finished, so r is quiet.
	runs, fails, warns := len(r.Runs), len(r.Errors()), len(r.Warnings())
	verdict := "OK"
	if r.Failed() {
		verdict = "FAILED"
	}
	codes := map[string]bool{}
	for _, d := range r.Deviations {
		codes[d.Code] = true
	}
	list := make([]string, 0, len(codes))
	for c := range codes {
		list = append(list, c)
	}
	slices.Sort(list)
	text := fmt.Sprintf("%s: %d run(s), %d error(s), %d warning(s)", verdict, runs, fails, warns)
	if len(r.Steps) > 0 {
		text = fmt.Sprintf("%s: %d step(s), %d run(s), %d error(s), %d warning(s)", verdict, len(r.Steps), runs, fails, warns)
	}
	if len(list) > 0 {
		text += " [" + strings.Join(list, ", ") + "]"
	}
	p.emit("summary", map[string]any{
		"ok": !r.Failed(), "runs": runs, "errors": fails, "warnings": warns, "steps": len(r.Steps),
		"location": r.Location, "deleteStatus": r.DeleteStatus,
	}, text)
}

// stepStart announces a lifecycle step (text only: the JSON "step" object
// comes when it is done).
func (p *printer) stepStart(r StepRecord) {
	if p.json {
		return
	}
	p.emit("", nil, fmt.Sprintf("── step %d: %s ── %s", r.Number, r.Step, stepMeaning[r.Step]))
}

// stepMeaning says what each step is on the platform.
var stepMeaning = map[Step]string{
	StepSave:    "the maker saves the flow: register a new callback, then DELETE the previous registration",
	StepRenew:   "the connection's credentials are renewed: register again, then DELETE the previous registration",
	StepDisable: "the flow is turned off: DELETE the registration",
	StepEnable:  "the flow is turned on: register again",
	StepDelete:  "the flow is deleted: DELETE the registration",
}

func (p *printer) step(r StepRecord) {
	var b strings.Builder
	mark := "✓"
	if !r.OK {
		mark = "✗"
	}
	fmt.Fprintf(&b, "  %s step %d %s:", mark, r.Number, r.Step)
	if r.Registered > 0 {
		fmt.Fprintf(&b, " registered #%d (%d)", r.Registered, r.RegisterStatus)
	} else if r.RegisterStatus > 0 {
		fmt.Fprintf(&b, " registration refused (%d)", r.RegisterStatus)
	}
	if r.Deleted > 0 {
		fmt.Fprintf(&b, " deleted #%d (%d)", r.Deleted, r.DeleteStatus)
	}
	if r.Active > 0 {
		fmt.Fprintf(&b, "; active #%d", r.Active)
	} else {
		b.WriteString("; nothing active")
	}
	if r.Emitted {
		if len(r.Received) == 0 {
			b.WriteString("; emitted, nothing arrived")
		} else {
			var parts []string
			for _, n := range sortedKeys(r.Received) {
				parts = append(parts, fmt.Sprintf("#%d×%d", n, r.Received[n]))
			}
			b.WriteString("; emitted, arrived at " + strings.Join(parts, " "))
		}
	}
	received := map[string]int{}
	for n, c := range r.Received {
		received[fmt.Sprint(n)] = c
	}
	p.emit("step", map[string]any{
		"number": r.Number, "step": r.Step, "registered": r.Registered, "registerStatus": r.RegisterStatus,
		"deleted": r.Deleted, "deleteStatus": r.DeleteStatus, "active": r.Active,
		"emitted": r.Emitted, "received": received, "ok": r.OK,
	}, b.String())
}

func (p *printer) fault(r FaultRecord) {
	var b strings.Builder
	fmt.Fprintf(&b, "fault · registration #%d · %s", r.Registration, r.Outcome)
	for i, a := range r.Attempts {
		fmt.Fprintf(&b, "\n    try %d", i+1)
		if i > 0 {
			fmt.Fprintf(&b, " +%s", round(a.After))
		}
		fmt.Fprintf(&b, " → %d", a.Status)
		if a.Fault {
			b.WriteString(" (injected)")
		}
		if a.HungUpAfter > 0 {
			fmt.Fprintf(&b, ", publisher hung up after %s", round(a.HungUpAfter))
		}
	}
	p.emit("fault", map[string]any{
		"registration": r.Registration, "attempts": r.Attempts, "delivered": r.Delivered, "outcome": r.Outcome,
	}, b.String())
}

// indentBody pretty-prints JSON (or shows text as it is) under two spaces.
func indentBody(body []byte) string {
	if len(body) > maxPrintedBody {
		body = append(body[:maxPrintedBody:maxPrintedBody], "…"...)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "    ", "  "); err != nil {
		return "    " + string(body)
	}
	return "    " + buf.String()
}

// compact returns valid JSON for the JSON output: the body itself when it
// is JSON, else the body as a JSON string.
func compact(body []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err == nil {
		return buf.Bytes()
	}
	b, _ := json.Marshal(string(body))
	return b
}

// nonNil makes an empty error list print as [] rather than null.
func nonNil(errs []SchemaError) []SchemaError {
	if errs == nil {
		return []SchemaError{}
	}
	return errs
}
