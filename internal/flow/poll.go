package flow

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// stateParam is a parameter carrying x-ms-trigger-value: the platform
// keeps the polling state in it, taking value-path of the first element of
// value-collection from each 200
// (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions;
// iMIS).
type stateParam struct {
	name       string
	collection string
	path       string
}

// poll runs the backend-managed polling protocol
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app): call the
// operation; 202 means nothing new, wait Retry-After and call the Location;
// 200 starts runs, then follow the new Location, Retry-After 0 meaning at
// once. There is nothing to unsubscribe.
func (s *session) poll(ctx context.Context) error {
	s.out.trigger(s.def, s.t, s.base)
	s.checkCredentials()
	c, err := s.buildCall(s.t.op, s.t.path, s.t.method, s.t.params, "", s.cfg.Params)
	if err != nil {
		return err
	}
	state := s.stateParam()
	pl := s.pollPayload(state)

	next := c.url
	polls, sources := 0, 0
	for {
		polls++
		resp, err := s.send(ctx, c.method, next, c.header, c.body, true)
		if err != nil {
			if ctx.Err() != nil {
				break // stopped while a poll was in flight
			}
			s.deviate(Error, "poll", "poll-error",
				"poll %d failed: %v. The platform retries connectivity errors, then tries again at the next recurrence (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)", polls, err)
			if !s.wait(ctx, 0, false) {
				break
			}
			continue
		}
		wait, hasWait := s.retryAfter(resp.header)
		loc := resp.header.Get("Location")
		reached := false
		switch {
		case resp.status == http.StatusOK:
			sources++
			reached = s.record(sources, time.Now(), nil, pl, resp.body)
			switch {
			case loc != "":
				next = s.follow(loc, next)
			case state != nil:
				next = s.advanceState(c, state, resp.body)
			default:
				next = c.url
				s.deviateOnce(Warning, "poll", "poll-no-location",
					"a 200 came without a Location header and the operation has no x-ms-trigger-value state parameter, so the platform polls the original URL again and the same items may fire twice. Answer with a Location that carries the new state (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)")
			}
		case resp.status == http.StatusAccepted:
			if loc != "" {
				next = s.follow(loc, next)
			} else {
				s.deviateOnce(Warning, "poll", "poll-202-no-location",
					"a 202 came without a Location header; the platform then calls the same URL again. The polling pattern answers 202 with a Location (carrying the state) and a Retry-After (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)")
			}
		case resp.status >= 400 && resp.status <= 499 && resp.status != http.StatusRequestTimeout && resp.status != http.StatusTooManyRequests:
			s.deviate(Error, "poll", "poll-error",
				"poll %d answered %s: %s. The platform starts no run, retries per the flow's retry policy and shows the trigger as failing; the same request keeps failing, so flow stops (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)", polls, resp.text, excerpt(resp.body))
			return s.endPoll(ctx)
		case resp.status >= 500 || resp.status == http.StatusRequestTimeout || resp.status == http.StatusTooManyRequests:
			s.deviate(Error, "poll", "poll-error",
				"poll %d answered %s: %s. The platform starts no run and retries 408, 429 and 5xx, then tries again at the next recurrence (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)", polls, resp.text, excerpt(resp.body))
		default:
			s.deviate(Warning, "poll", "poll-status",
				"poll %d answered %s; only 200 starts a run and only 202 means \"nothing new\" (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)", polls, resp.text)
		}
		if reached || !s.wait(ctx, wait, hasWait) {
			break
		}
	}
	return s.endPoll(ctx)
}

func (s *session) endPoll(ctx context.Context) error {
	s.checkRunsReached(ctx)
	return nil
}

// follow makes the next poll URL from a Location header.
func (s *session) follow(loc, current string) string {
	abs, err := s.resolveLocationOnce(loc, current)
	if err != nil {
		s.deviate(Error, "poll", "bad-location", "the Location %q is unusable (%v); polling the previous URL again", loc, err)
		return current
	}
	u, err1 := url.Parse(abs)
	b, err2 := url.Parse(s.base)
	if err1 == nil && err2 == nil && (!strings.EqualFold(u.Host, b.Host) || u.Scheme != b.Scheme) {
		s.deviateOnce(Warning, "poll", "location-foreign-host",
			"the Location %s is not on the connector's host %s://%s; the platform sends polls through the connector, with the connection's credentials, only for its own host (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", s.redact(abs), b.Scheme, b.Host)
	}
	return abs
}

// resolveLocationOnce resolves a Location, reporting a relative one once.
func (s *session) resolveLocationOnce(loc, current string) (string, error) {
	u, err := url.Parse(loc)
	if err == nil && !u.IsAbs() && s.seen("relative-location") {
		base, err := url.Parse(current)
		if err != nil {
			return "", err
		}
		return base.ResolveReference(u).String(), nil
	}
	return s.resolveLocation("poll", loc, current)
}

// wait sleeps until the next poll. Retry-After counts seconds (scaled by
// Config.RetryAfterUnit); Config.MinInterval floors it; with no Retry-After
// the flow's recurrence, Config.Interval, applies
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
// It returns false when ctx ends first.
func (s *session) wait(ctx context.Context, d time.Duration, has bool) bool {
	if !has {
		d = s.cfg.Interval
	}
	if d < s.cfg.MinInterval {
		d = s.cfg.MinInterval
	}
	if d > 0 {
		s.out.note("next poll in %s", d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return ctx.Err() == nil
	}
}

// retryAfter reads Retry-After: integer seconds, or an HTTP date.
func (s *session) retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		s.deviateOnce(Warning, "poll", "poll-no-retry-after",
			"a poll response has no Retry-After header; the platform then waits for the flow's recurrence (here --interval %s). Send Retry-After: 0 while more items are pending and a real interval otherwise (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app)", s.cfg.Interval)
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * s.cfg.RetryAfterUnit, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	s.deviateOnce(Warning, "poll", "poll-bad-retry-after",
		"Retry-After %q is neither a whole number of seconds nor an HTTP date (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app: \"number of seconds\")", v)
	return 0, false
}

// stateParam finds the parameter with x-ms-trigger-value.
func (s *session) stateParam() *stateParam {
	for _, p := range s.t.params {
		tv, ok := p.Extensions["x-ms-trigger-value"].(map[string]any)
		if !ok {
			continue
		}
		sp := &stateParam{name: p.Name}
		sp.collection, _ = tv["value-collection"].(string)
		sp.path, _ = tv["value-path"].(string)
		if p.In != "query" {
			s.deviate(Warning, "definition", "trigger-value-not-query",
				"x-ms-trigger-value on %s parameter %s: flow keeps polling state only in query parameters", p.In, p.Name)
			return nil
		}
		return sp
	}
	return nil
}

// advanceState sets the state parameter from a 200 body, as the platform
// does for x-ms-trigger-value, and returns the next URL.
func (s *session) advanceState(c *call, st *stateParam, body []byte) string {
	inst, err := decodeBody(body)
	if err != nil {
		return c.url
	}
	var first any = inst
	if st.collection != "" {
		m, _ := inst.(map[string]any)
		first = m[st.collection]
	}
	arr, ok := first.([]any)
	if !ok || len(arr) == 0 {
		s.deviateOnce(Warning, "poll", "trigger-value-missing",
			"x-ms-trigger-value of %s names collection %q, which the 200 body does not hold as a non-empty array, so the state cannot advance (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions)", st.name, st.collection)
		return c.url
	}
	v := arr[0]
	for _, seg := range strings.FieldsFunc(st.path, func(r rune) bool { return r == '/' || r == '.' }) {
		m, _ := v.(map[string]any)
		v = m[seg]
	}
	if v == nil {
		s.deviateOnce(Warning, "poll", "trigger-value-missing",
			"x-ms-trigger-value of %s names value-path %q, which the first item lacks, so the state cannot advance (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions)", st.name, st.path)
		return c.url
	}
	c.setQuery(st.name, paramText(v))
	s.out.note("state: %s=%s (x-ms-trigger-value: %s[0].%s)", st.name, paramText(v), st.collection, st.path)
	return c.url
}

// pollPayload describes the 200 response: runs come from its body, or from
// its item array with split-on
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
func (s *session) pollPayload(st *stateParam) *payload {
	pl := &payload{what: "200 response schema"}
	var schema any
	if r := s.response200(); r != nil {
		schema = r["schema"]
	}
	if schema == nil {
		s.deviate(Warning, "definition", "no-response-schema",
			"the trigger's 200 response declares no schema, so the designer offers no dynamic content and flow cannot validate items (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)")
	} else {
		pl.setSchema(s, schema)
	}
	if pl.array {
		return pl
	}
	root := s.def.rawDeref(schema)
	props := rawMap(root, "properties")
	switch {
	case st != nil && st.collection != "":
		pl.setCollection(s, root, st.collection)
	case isArrayProp(s.def, props["value"]):
		pl.setCollection(s, root, "value")
	default:
		var arrays []string
		for n, p := range props {
			if isArrayProp(s.def, p) {
				arrays = append(arrays, n)
			}
		}
		if len(arrays) == 1 {
			// Feathery's "results": the only array is what the
			// connector's triggerDataPath policy points at (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).
			pl.setCollection(s, root, arrays[0])
		}
	}
	return pl
}

func isArrayProp(d *definition, v any) bool {
	m := d.rawDeref(v)
	return m != nil && m["type"] == "array"
}

// response200 is the operation's raw 200 response, #/responses refs followed.
func (s *session) response200() map[string]any {
	r := rawMap(s.t.rawItem, strings.ToLower(s.t.method), "responses", "200")
	for range maxDepth {
		ref, ok := r["$ref"].(string)
		if !ok {
			return r
		}
		name, ok := strings.CutPrefix(ref, "#/responses/")
		if !ok {
			return nil
		}
		r = rawMap(s.def.raw, "responses", unescapePointer(name))
	}
	return nil
}
