package flow_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// Actsoft implements the backend-managed protocol
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app):
// 202 + Location + Retry-After when nothing is new, 200 + a bare array + the
// next Location when forms arrived. The API key goes in the header the
// definition names, the internal X-API-Version header gets its default.
func TestActsoftPolling(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /forms/v1/poll", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Location", absolute(r, "/forms/v1/poll?modifiedTime=2025-01-01T00%3A00%3A00Z&formHeaderId=0"))
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusAccepted)
		case 2:
			w.Header().Set("Location", absolute(r, "/forms/v1/poll?modifiedTime=2025-01-01T00%3A05%3A00Z&formHeaderId=2"))
			w.Header().Set("Retry-After", "0")
			io.WriteString(w, `[{"Id":1,"FormName":"Inspection","Reviewed":false},{"Id":"two","FormName":"Inspection"}]`)
		default:
			w.Header().Set("Location", absolute(r, "/forms/v1/poll?modifiedTime=2025-01-01T00%3A06%3A00Z&formHeaderId=3"))
			w.Header().Set("Retry-After", "60")
			io.WriteString(w, `[{"Id":3,"FormName":"Delivery","SubmittedTime":"2025-01-01T00:06:00Z"}]`)
		}
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "Actsoft"),
		Trigger:   "FormController_Poll",
		BaseURL:   b.URL,
		APIKey:    "sub-key",
		Runs:      3,
	})

	polls := b.requests(http.MethodGet)
	require.Len(t, polls, 3)
	require.Equal(t, "", polls[0].RawQuery)
	require.Equal(t, "modifiedTime=2025-01-01T00%3A00%3A00Z&formHeaderId=0", polls[1].RawQuery, "the Location is followed byte for byte")
	require.Equal(t, "modifiedTime=2025-01-01T00%3A05%3A00Z&formHeaderId=2", polls[2].RawQuery)
	for _, p := range polls {
		require.Equal(t, "/forms/v1/poll", p.Path)
		require.Equal(t, "sub-key", p.Header.Get("Ocp-Apim-Subscription-Key"))
		require.Equal(t, "15", p.Header.Get("X-API-Version"))
	}

	require.Len(t, rep.Runs, 3)
	require.True(t, rep.Runs[0].Valid)
	require.Equal(t, 0, rep.Runs[0].Item)
	require.False(t, rep.Runs[1].Valid)
	require.Equal(t, "/1/Id", rep.Runs[1].Errors[0].Path)
	require.Equal(t, 1, rep.Runs[1].Source)
	require.Equal(t, 2, rep.Runs[2].Source)
	require.True(t, rep.Runs[2].Valid)
	require.Equal(t, []string{"schema-mismatch"}, codes(rep, flow.Error))
	require.Empty(t, codes(rep, flow.Warning))
	require.Zero(t, rep.DeleteStatus, "polling triggers have nothing to unsubscribe")
}

// iMIS keeps its state in an internal query parameter with
// x-ms-trigger-value: the platform takes value[0].seqn from each 200.
func TestIMISPollingTriggerValue(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /trigger/Activity", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		switch calls.Add(1) {
		case 1:
			io.WriteString(w, `{"value":[{"seqn":101,"id":"A1","activityType":"GIFT"},{"seqn":100,"id":"A2","activityType":"GIFT"}]}`)
		case 2:
			w.WriteHeader(http.StatusAccepted)
		default:
			io.WriteString(w, `{"value":[{"seqn":102,"id":"A3","activityType":""}]}`)
		}
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "iMIS"),
		Trigger:   "ActivityTriggerPoll",
		BaseURL:   b.URL,
		APIKey:    "csi-key",
		Runs:      3,
	})

	polls := b.requests(http.MethodGet)
	require.Len(t, polls, 3)
	require.Equal(t, "", polls[0].RawQuery, "the optional internal sequence is not sent")
	require.Equal(t, "sequence=101", polls[1].RawQuery)
	require.Equal(t, "sequence=101", polls[2].RawQuery, "a 202 leaves the state alone")
	require.Equal(t, "csi-key", polls[0].Header.Get("X-API-Key"))

	require.Len(t, rep.Runs, 3)
	require.Equal(t, "/value/0/activityType", rep.Runs[2].Errors[0].Path)
	require.ElementsMatch(t, []string{"optional-internal-ignored", "poll-202-no-location"}, codes(rep, flow.Warning))
	require.True(t, rep.Failed())
}

// Feathery's polling state lives in a connector policy (apiProperties.json),
// not the swagger: flow polls the same URL, splits the only array property
// ("results"), and says what the missing headers mean.
func TestFeatheryPolling(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/trigger/power-automate/poll/form_completion/", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			io.WriteString(w, `{"results":[{"id":"s1","Submission Completed At":"2025-01-01"},{"id":5}]}`)
			return
		}
		io.WriteString(w, `{"results":[{"id":"s3"}]}`)
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "Feathery_Forms"),
		Trigger:   "FormCompletion",
		BaseURL:   b.URL + "/api",
		APIKey:    "Token abc",
		Params:    map[string]string{"form_key": "Contact Us"},
		Runs:      3,
	})

	polls := b.requests(http.MethodGet)
	require.Len(t, polls, 2)
	for _, p := range polls {
		require.Equal(t, "form_key=Contact+Us", p.RawQuery)
		require.Equal(t, "Token abc", p.Header.Get("Authorization"))
	}
	require.Len(t, rep.Runs, 3)
	require.Equal(t, map[string]any{"id": "s1", "Submission Completed At": "2025-01-01"}, rep.Runs[0].Body)
	require.Equal(t, "/results/1/id", rep.Runs[1].Errors[0].Path)
	require.ElementsMatch(t, []string{"poll-no-location", "poll-no-retry-after"}, codes(rep, flow.Warning))
}

// A poll the publisher refuses stops the flow with the publisher's answer.
func TestPollingRefused(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /trigger/power-automate/poll/data_received/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"detail":"Invalid token."}`, http.StatusUnauthorized)
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: connector(t, "Feathery_Forms"),
		Trigger:   "DataReceived",
		BaseURL:   b.URL,
		Params:    map[string]string{"form_key": "f"},
	})
	require.Len(t, b.requests(http.MethodGet), 1)
	require.True(t, rep.Failed())
	require.Contains(t, deviation(t, rep, "poll-error").Message, "Invalid token")
	require.Equal(t, flow.Warning, deviation(t, rep, "no-credentials").Severity)
}

// An API key declared in the query travels on every poll, relative
// Locations are resolved (and reported once), a 503 is a failure that does
// not stop polling, and an HTTP-date Retry-After is honoured.
func TestQueryKeyRelativeLocationAndServerError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/trigger/items", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Location", "items?list=inbox&state=1")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusAccepted)
		case 2:
			w.Header().Set("Retry-After", "Mon, 02 Jan 2006 15:04:05 GMT") // in the past: poll at once
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 3:
			w.Header().Set("Location", "items?list=inbox&state=2")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusAccepted)
		default:
			w.Header().Set("Location", "items?list=inbox&state=3")
			w.Header().Set("Retry-After", "0")
			io.WriteString(w, `{"value":[{"id":"Alpha"},{"id":"beta"}]}`)
		}
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: "testdata/query-key-polling.swagger.json",
		Trigger:   "OnNewItems",
		BaseURL:   b.URL + "/api",
		APIKey:    "k&1",
		Params:    map[string]string{"list": "inbox"},
		Runs:      2,
	})
	polls := b.requests(http.MethodGet)
	require.Len(t, polls, 4)
	require.Equal(t, "list=inbox&code=k%261", polls[0].RawQuery)
	require.Equal(t, "list=inbox&state=1&code=k%261", polls[1].RawQuery)
	require.Equal(t, "list=inbox&state=1&code=k%261", polls[2].RawQuery, "after a 503 the same URL is polled again")
	require.Equal(t, "list=inbox&state=2&code=k%261", polls[3].RawQuery)
	require.Len(t, rep.Runs, 2)
	require.True(t, rep.Runs[0].Valid)
	require.Equal(t, "/value/1/id", rep.Runs[1].Errors[0].Path, "the pattern's lookahead needs an ECMAScript engine")
	require.Equal(t, []string{"relative-location"}, codes(rep, flow.Warning), "reported once")
	require.ElementsMatch(t, []string{"poll-error", "schema-mismatch"}, codes(rep, flow.Error))
}
