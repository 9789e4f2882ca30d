package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/internal/poll"
)

// pollTrigger answers GET /v1/trigger/{trigger}, a polling trigger in the
// pattern of https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app: 202 with Location and
// Retry-After while nothing is new (the first call establishes the state),
// 200 with {"value": [...]} and the next Location when events are; Retry-After
// 0 asks for the next page at once. Location is absolute, on the public URL,
// and names the same operation with the poller's filters and the new state,
// so the platform follows it through the connector with the connection's
// API key.
func (a *api) pollTrigger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("trigger")
	tr, ok := a.Catalog.Trigger(name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_trigger", fmt.Sprintf("no trigger %q; this publisher offers %v", name, a.Catalog.TriggerNames()))
		return
	}
	if !tr.Offers(catalog.KindPolling) || a.Poller == nil {
		writeError(w, http.StatusNotFound, "not_polling", fmt.Sprintf("trigger %q is not offered for polling (its kinds are %v); "+
			"list polling in the trigger's kinds in the catalog, or register a webhook with POST /v1/webhooks/%s", name, tr.Kinds, name))
		return
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_query", "the query string does not decode: "+err.Error())
		return
	}
	filters, state, err := DecodePollQuery(query, tr)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	res, err := a.Poller.Poll(r.Context(), poll.Request{TenantID: tenantOf(r).ID, Trigger: tr, Filters: filters, State: state})
	var se *poll.StateError
	if errors.As(err, &se) {
		writeError(w, http.StatusBadRequest, "invalid_trigger_state", se.Error())
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}

	h := w.Header()
	h.Set("Location", a.pollLocation(tr, filters, res.State))
	h.Set("Retry-After", strconv.FormatInt(int64(res.RetryAfter.Seconds()), 10))
	h.Set("Cache-Control", "no-store")
	if res.Pruned {
		h.Set(poll.PrunedHeader, "true")
	}
	if len(res.Events) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	// The events as published: {"value":[<data>,<data>,…]}.
	body := bytes.NewBufferString(`{"value":[`)
	for i, ev := range res.Events {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(ev)
	}
	body.WriteString("]}\n")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes()) // the client went away; the state it had still works
}

// pollLocation is the URL of the next poll: the same operation, the filters
// the poller set, in catalog order, and the state.
func (a *api) pollLocation(tr *catalog.Trigger, filters map[string]string, state string) string {
	var q strings.Builder
	for _, f := range tr.Filters {
		if v := filters[f.Name]; v != "" {
			q.WriteString(url.QueryEscape(f.Name) + "=" + url.QueryEscape(v) + "&")
		}
	}
	q.WriteString(poll.StateParameter + "=" + url.QueryEscape(state))
	return a.PublicURL + connector.APIVersionPath + connector.TriggerPath + "/" + url.PathEscape(tr.Name) + "?" + q.String()
}

// DecodePollQuery reads a poll's query: the trigger's filter fields and
// triggerState, each at most once. As at registration, an unknown parameter
// is refused with the list of known ones (a misspelt filter would otherwise
// poll every event), enum values are checked and required filters must be
// set. It returns the filter values set and the state ("" when absent).
func DecodePollQuery(query url.Values, tr *catalog.Trigger) (map[string]string, string, error) {
	known := map[string]catalog.Filter{}
	for _, f := range tr.Filters {
		known[f.Name] = f
	}
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	slices.Sort(names)
	filters := map[string]string{}
	state := ""
	for _, name := range names {
		values := query[name]
		if len(values) > 1 {
			return nil, "", invalid("query parameter %s is given %d times; give it once", name, len(values))
		}
		v := values[0]
		if name == poll.StateParameter {
			state = v
			continue
		}
		f, ok := known[name]
		if !ok {
			allowed := make([]string, 0, len(tr.Filters)+1)
			for _, f := range tr.Filters {
				allowed = append(allowed, f.Name)
			}
			allowed = append(allowed, poll.StateParameter)
			return nil, "", invalid("unknown query parameter %q for trigger %s; allowed parameters: %s", name, tr.Name, strings.Join(allowed, ", "))
		}
		if v == "" {
			continue
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, v) {
			return nil, "", invalid("%s: %q is not one of %s", name, v, strings.Join(f.Enum, ", "))
		}
		filters[name] = v
	}
	for _, f := range tr.Filters {
		if f.Required && filters[f.Name] == "" {
			return nil, "", invalid("%s is required for trigger %s: %s", f.Name, tr.Name, f.Description)
		}
	}
	return filters, state, nil
}
