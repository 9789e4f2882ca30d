package console

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/internal/httpapi"
)

// pageTemplate is one page: the layout and the page's own content.
type pageTemplate struct{ t *template.Template }

var pageNames = []string{"signin", "error", "overview", "subscriptions", "subscription", "events", "event", "connector"}

func parsePages() (map[string]*pageTemplate, error) {
	funcs := template.FuncMap{
		"num":          thousands,
		"host":         host,
		"subscription": subscriptionPath,
		"event":        eventPath,
		"utc":          func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ms": func(f float64) string {
			if f >= 1000 {
				return thousands(int(f)) + " ms"
			}
			return strconv.FormatFloat(f, 'f', 1, 64) + " ms"
		},
		"path": func() string { return Path },
	}
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		out[name] = &pageTemplate{t: t}
	}
	return out, nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded: a build defect
	}
	return sub
}

// layoutData is what the layout reads beside the page's own data.
type layoutData struct {
	// Nav names the page, for the navigation's aria-current.
	Nav     string
	Session *session
	// CSRF is the session's token for the forms; Tenant its tenant's name.
	CSRF   string
	Tenant string
	Page   any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, s *session, page any) {
	d := layoutData{Page: page, Nav: name, Session: s}
	if s != nil {
		d.CSRF = s.csrf()
		d.Tenant = s.Key.Tenant.Name
	}
	var buf bytes.Buffer
	if err := c.pages[name].t.Execute(&buf, d); err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "console: render", "page", name, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// outcomes are the attempt outcomes in the order the chart stacks them.
var outcomes = []string{"delivered", "retry", "failed", "gone"}

// chartRow is one trigger's bar: its attempts of the last hour stacked by
// outcome, scaled to the busiest trigger.
type chartRow struct {
	Trigger  string
	Active   int
	Inactive int
	Total    int
	Y        int
	Segments []chartSegment
}

type chartSegment struct {
	Outcome string
	Count   int
	X, W    float64
}

// The chart's geometry: bar widths are percentages of the chart's width,
// so it fits any screen with text at its natural size; rows are a label,
// then a bar, in pixels.
const (
	chartWidth     = 100.0
	chartRowHeight = 50
)

type overviewPage struct {
	Since    time.Time
	Rows     []chartRow
	Height   int
	Width    float64
	Outcomes []string
	Problems []httpapi.SubscriptionView
	Pending  any
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	var ov httpapi.OverviewView
	if err := c.call(r, s, http.MethodGet, httpOverviewPath, nil, &ov); err != nil {
		c.failure(w, r, s, err)
		return
	}
	page := overviewPage{Since: ov.Since, Width: chartWidth, Outcomes: outcomes, Problems: ov.Problems}
	if ov.OldestPending != nil {
		page.Pending = ov.OldestPending
	}
	most := 1
	for _, t := range ov.Triggers {
		total := 0
		for _, o := range outcomes {
			total += t.Attempts[o]
		}
		most = max(most, total)
	}
	for i, t := range ov.Triggers {
		row := chartRow{Trigger: t.Trigger, Active: t.Subscriptions["active"], Inactive: t.Subscriptions["inactive"], Y: i * chartRowHeight}
		x := 0.0
		for _, o := range outcomes {
			n := t.Attempts[o]
			row.Total += n
			wd := chartWidth * float64(n) / float64(most)
			if n > 0 {
				row.Segments = append(row.Segments, chartSegment{Outcome: o, Count: n, X: x, W: wd})
			}
			x += wd
		}
		page.Rows = append(page.Rows, row)
	}
	page.Height = max(len(page.Rows)*chartRowHeight-8, chartRowHeight)
	c.render(w, r, http.StatusOK, "overview", s, page)
}

// httpOverviewPath is the API's overview route under /v1.
const httpOverviewPath = "/overview"

type listPage[T any] struct {
	Items []T
	Next  string
	First bool
}

func (c *Console) subscriptions(w http.ResponseWriter, r *http.Request, s *session) {
	var page struct {
		Webhooks []httpapi.SubscriptionView `json:"webhooks"`
		Next     string                     `json:"next"`
	}
	q := url.Values{"limit": {strconv.Itoa(PageSize)}}
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if err := c.call(r, s, http.MethodGet, connector.WebhooksPath+"?"+q.Encode(), nil, &page); err != nil {
		c.failure(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "subscriptions", s, listPage[httpapi.SubscriptionView]{Items: page.Webhooks, Next: page.Next, First: cursor == ""})
}

type subscriptionPage struct {
	Sub          httpapi.SubscriptionView
	Attempts     []httpapi.AttemptView
	Next         string
	First        bool
	Since        string
	Notice       string
	RedeliverMax int
}

func (c *Console) subscription(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var sub httpapi.SubscriptionView
	if err := c.call(r, s, http.MethodGet, connector.WebhooksPath+"/"+url.PathEscape(id), nil, &sub); err != nil {
		c.failure(w, r, s, err)
		return
	}
	var page struct {
		Attempts []httpapi.AttemptView `json:"attempts"`
		Next     string                `json:"next"`
	}
	q := url.Values{"limit": {strconv.Itoa(PageSize)}}
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if err := c.call(r, s, http.MethodGet, connector.WebhooksPath+"/"+url.PathEscape(id)+"/attempts?"+q.Encode(), nil, &page); err != nil {
		c.failure(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "subscription", s, subscriptionPage{Sub: sub, Attempts: page.Attempts, Next: page.Next,
		First: cursor == "", Since: c.cfg.Now().UTC().Add(-24 * time.Hour).Format(sinceLayout), Notice: notice(r.URL.Query())})
}

// sinceLayout is the value of a datetime-local input, read as UTC.
const sinceLayout = "2006-01-02T15:04"

// notice is the message a page shows after the action that redirected to
// it; only these fixed texts, never text from the query.
func notice(q url.Values) string {
	switch q.Get("done") {
	case "disabled":
		return "Disabled: this subscription receives nothing until it is enabled."
	case "enabled":
		return "Enabled: deliveries resume, and consecutive failures count from zero."
	case "redelivered":
		n, _ := strconv.Atoi(q.Get("queued"))
		msg := fmt.Sprintf("Queued %s redeliveries.", thousands(n))
		if n == 1 {
			msg = "Queued 1 redelivery."
		}
		if p, _ := strconv.Atoi(q.Get("pruned")); p > 0 {
			msg += fmt.Sprintf(" %s events of that window were past the event retention and cannot be sent again.", thousands(p))
		}
		return msg
	}
	return ""
}

func (c *Console) setState(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	state := r.PostFormValue("state")
	if err := c.call(r, s, http.MethodPatch, connector.WebhooksPath+"/"+url.PathEscape(id), map[string]string{"state": state}, nil); err != nil {
		c.failure(w, r, s, err)
		return
	}
	done := "enabled"
	if state == "inactive" {
		done = "disabled"
	}
	seeOther(w, r, subscriptionPath(id), url.Values{"done": {done}})
}

func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	since, err := time.ParseInLocation(sinceLayout, r.PostFormValue("since"), time.UTC)
	if err != nil {
		c.render(w, r, http.StatusUnprocessableEntity, "error", s, errorPage{Title: "Redelivery refused",
			Message: "“Since” must be a date and time like 2026-01-02T15:04 (UTC).", Back: subscriptionPath(id)})
		return
	}
	only := r.PostFormValue("only")
	var out struct{ Queued, Pruned int }
	if err := c.call(r, s, http.MethodPost, connector.WebhooksPath+"/"+url.PathEscape(id)+"/redeliver",
		map[string]string{"since": since.Format(time.RFC3339), "only": only}, &out); err != nil {
		c.failure(w, r, s, err)
		return
	}
	seeOther(w, r, subscriptionPath(id), url.Values{"done": {"redelivered"}, "queued": {strconv.Itoa(out.Queued)}, "pruned": {strconv.Itoa(out.Pruned)}})
}

func (c *Console) redeliverOne(w http.ResponseWriter, r *http.Request, s *session) {
	id, eventID := r.PathValue("id"), r.PathValue("eventId")
	if err := c.call(r, s, http.MethodPost, connector.WebhooksPath+"/"+url.PathEscape(id)+"/events/"+url.PathEscape(eventID)+"/redeliver", nil, nil); err != nil {
		c.failure(w, r, s, err)
		return
	}
	seeOther(w, r, eventPath(eventID), url.Values{"done": {"redelivered"}, "queued": {"1"}})
}

type eventsPage struct {
	Query string
	listPage[httpapi.EventView]
}

// events lists the newest events, or finds one: a search by event id or
// idempotency key goes to its page (GET /v1/events/{id} takes either).
func (c *Console) events(w http.ResponseWriter, r *http.Request, s *session) {
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		http.Redirect(w, r, eventPath(q), http.StatusSeeOther)
		return
	}
	var page struct {
		Events []httpapi.EventView `json:"events"`
		Next   string              `json:"next"`
	}
	q := url.Values{"limit": {strconv.Itoa(PageSize)}}
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if err := c.call(r, s, http.MethodGet, connector.EventsPath+"?"+q.Encode(), nil, &page); err != nil {
		c.failure(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "events", s, eventsPage{listPage: listPage[httpapi.EventView]{Items: page.Events, Next: page.Next, First: cursor == ""}})
}

type eventPage struct {
	Event  httpapi.EventView
	Data   string
	Notice string
}

func (c *Console) event(w http.ResponseWriter, r *http.Request, s *session) {
	var ev httpapi.EventView
	if err := c.call(r, s, http.MethodGet, connector.EventsPath+"/"+url.PathEscape(r.PathValue("id")), nil, &ev); err != nil {
		c.failure(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "event", s, eventPage{Event: ev, Data: indent(ev.Data), Notice: notice(r.URL.Query())})
}

// indent pretty-prints JSON for a page, in its own key order, showing the
// <, > and & that Go's encoder wrote as \u003c, \u003e and \u0026 as
// themselves (the template escapes them for HTML).
func indent(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return htmlUnescaper.Replace(b.String())
}

var htmlUnescaper = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

type connectorPage struct {
	Definition string
	Findings   any
	LintError  error
}

func (c *Console) connectorPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, http.StatusOK, "connector", s, connectorPage{Definition: indent(c.cfg.Connector.Definition),
		Findings: c.lint.Findings, LintError: c.lintErr})
}

func (c *Console) connectorDownload(w http.ResponseWriter, r *http.Request, s *session) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="connector.zip"`)
	_, _ = w.Write(c.zip)
}

// connectorZip packs the three files paconn reads, under the names its
// settings.json gives them.
func connectorZip(f *connector.Files) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, file := range []struct {
		name string
		data []byte
	}{{connector.DefinitionFile, f.Definition}, {connector.PropertiesFile, f.Properties}, {connector.SettingsFile, f.Settings}} {
		fw, err := zw.Create(file.name)
		if err != nil {
			return nil, fmt.Errorf("console: connector zip: %w", err)
		}
		if _, err := fw.Write(file.data); err != nil {
			return nil, fmt.Errorf("console: connector zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("console: connector zip: %w", err)
	}
	return buf.Bytes(), nil
}
