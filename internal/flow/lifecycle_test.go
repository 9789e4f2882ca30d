package flow_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// corpusDef returns a real definition from shared/powerplatform/corpus
// (<repo root>/../shared), or skips the test when shared/ is absent.
func corpusDef(t *testing.T, folder string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "powerplatform", "corpus", folder, "apiDefinition.swagger.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared/ is not beside the repository, so the real connector corpus is missing: %v", err)
	}
	return p
}

// publisher is a fake API built the way a real one is: it keeps a table
// of subscriptions, answers a registration with 201 + Location, removes
// the subscription on DELETE, and on POST /emit delivers one event to every
// subscription it holds, synchronously, so that a test knows every delivery
// is done when the emit returns.
type publisher struct {
	*backend
	spec publisherSpec

	mu     sync.Mutex
	subs   map[int]string // id → callback URL
	order  []int
	nextID int
	// delivered lists the status every delivery got, per callback.
	delivered map[string][]int
}

type publisherSpec struct {
	// register is the mux pattern of the registration operation.
	register string
	// callback digs the callback URL out of a registration body.
	callback func(body []byte) string
	// location builds the Location for subscription id.
	location func(r *http.Request, id int) string
	// unsubscribe is the mux pattern of the DELETE (its id wildcard is
	// {id}); "" leaves DELETE unhandled, as a broken publisher does.
	unsubscribe string
	// event is the body delivered on emit.
	event string
}

func newPublisher(t *testing.T, spec publisherSpec) *publisher {
	t.Helper()
	p := &publisher{spec: spec, subs: map[int]string{}, delivered: map[string][]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc(spec.register, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cb := spec.callback(body)
		if cb == "" {
			http.Error(w, "no callback URL in the body", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.nextID++
		id := p.nextID
		p.subs[id] = cb
		p.order = append(p.order, id)
		p.mu.Unlock()
		w.Header().Set("Location", spec.location(r, id))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, id)
	})
	if spec.unsubscribe != "" {
		mux.HandleFunc(spec.unsubscribe, func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.Atoi(r.PathValue("id"))
			p.mu.Lock()
			_, ok := p.subs[id]
			delete(p.subs, id)
			p.mu.Unlock()
			if err != nil || !ok {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	mux.HandleFunc("POST /emit", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		var targets []string
		for _, id := range p.order {
			if cb, ok := p.subs[id]; ok {
				targets = append(targets, cb)
			}
		}
		p.mu.Unlock()
		client := &http.Client{Timeout: 10 * time.Second}
		for _, cb := range targets {
			resp, err := client.Post(cb, "application/json", strings.NewReader(spec.event))
			status := 0
			if err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			p.mu.Lock()
			p.delivered[cb] = append(p.delivered[cb], status)
			p.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	})
	p.backend = newBackend(t, mux)
	return p
}

// live returns the subscriptions the publisher still holds.
func (p *publisher) live() map[int]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int]string{}
	for k, v := range p.subs {
		out[k] = v
	}
	return out
}

// oodrive is Oodrive Sign's webhook: the callback nested in endpoint.url,
// the API key in the custom header j_token, DELETE /webhook/{id}.
func oodrive(t *testing.T) (string, publisherSpec) {
	return corpusDef(t, "certified/Oodrive_Sign"), publisherSpec{
		register: "POST /api/v4/webhook/contract",
		callback: func(b []byte) string { return dig(b, "endpoint", "url") },
		location: func(r *http.Request, id int) string {
			return absolute(r, fmt.Sprintf("/api/v4/webhook/%d", id))
		},
		unsubscribe: "DELETE /api/v4/webhook/{id}",
		event:       `{"type":"contract.status","contractId":7,"timestamp":1700000000,"contractStatus":"SIGNED"}`,
	}
}

// The platform preset against a publisher that replaces and deletes its
// subscriptions correctly: every save registers a new callback URL and
// deletes the old one, each emit reaches exactly the current callback,
// nothing is left behind, and the credentials travel on every call.
func TestLifecyclePlatformClean(t *testing.T) {
	t.Parallel()
	def, spec := oodrive(t)
	p := newPublisher(t, spec)
	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: def,
		Trigger:   "WhenContractStatusChanged",
		BaseURL:   p.URL + "/api/v4",
		APIKey:    "oodrive-key",
		Lifecycle: flow.PlatformLifecycle,
		EmitURL:   p.URL + "/emit",
		Settle:    time.Millisecond,
		Output:    &out,
	})
	require.False(t, rep.Failed(), "%v", rep.Deviations)
	require.Empty(t, rep.Deviations)
	require.Empty(t, p.live(), "every registration was deleted")

	regs := p.requests(http.MethodPost)
	var callbacks []string
	for _, r := range regs {
		if r.Path == "/api/v4/webhook/contract" {
			require.Equal(t, "oodrive-key", r.Header.Get("j_token"))
			callbacks = append(callbacks, dig(r.Body, "endpoint", "url"))
		}
	}
	require.Len(t, callbacks, 4, "save, save, renew and enable register")
	for i := range callbacks {
		for j := range i {
			require.NotEqual(t, callbacks[i], callbacks[j], "each registration has its own callback URL")
		}
	}
	dels := p.requests(http.MethodDelete)
	require.Len(t, dels, 4, "save, renew, disable and delete each delete one")
	for i, d := range dels {
		require.Equal(t, fmt.Sprintf("/api/v4/webhook/%d", i+1), d.Path)
		require.Equal(t, "oodrive-key", d.Header.Get("j_token"), "the DELETE on the connector's host carries the key")
	}

	require.Len(t, rep.Steps, 6)
	want := []struct{ reg, del, active int }{{1, 0, 1}, {2, 1, 2}, {3, 2, 3}, {0, 3, 0}, {4, 0, 4}, {0, 4, 0}}
	for i, st := range rep.Steps {
		require.Equal(t, flow.PlatformLifecycle[i], st.Step)
		require.Equal(t, want[i].reg, st.Registered, "step %d", i+1)
		require.Equal(t, want[i].del, st.Deleted, "step %d", i+1)
		require.Equal(t, want[i].active, st.Active, "step %d", i+1)
		require.True(t, st.Emitted)
		require.True(t, st.OK)
		if st.Active > 0 {
			require.Equal(t, map[int]int{st.Active: 1}, st.Received, "step %d: one delivery, to the current callback", i+1)
		} else {
			require.Empty(t, st.Received, "step %d: the flow is off, nothing arrives", i+1)
		}
	}
	require.Len(t, rep.Runs, 4)
	for _, r := range rep.Runs {
		require.True(t, r.Checked)
		require.True(t, r.Valid, "%v", r.Errors)
	}
	require.Contains(t, out.String(), "── step 2: save ──")
	require.Contains(t, out.String(), "OK: 6 step(s), 4 run(s), 0 error(s), 0 warning(s)")
}

// TrueDialog SMS registers with PUT, basic auth and a path parameter. A
// publisher that handles no DELETE keeps every subscription: after the
// second save the event reaches the retired callback too
// (orphaned-registration), and the DELETEs answer 404.
func TestLifecycleOrphanWithoutDelete(t *testing.T) {
	t.Parallel()
	p := newPublisher(t, publisherSpec{
		register: "PUT /api/v2.1/account/{accountId}/callback/-1",
		callback: func(b []byte) string { return dig(b, "URL") },
		location: func(r *http.Request, id int) string {
			return absolute(r, fmt.Sprintf("/api/v2.1/account/%s/callback/%d", r.PathValue("accountId"), id))
		},
		event: `{"CallbackTimestamp":"2025-03-01T09:00:00","CallbackToken":"t","CallbackType":1,"Message":"STOP"}`,
	})
	rep := run(t, flow.Config{
		Connector: corpusDef(t, "certified/TrueDialog_SMS"),
		Trigger:   "Keyword_received",
		BaseURL:   p.URL + "/api/v2.1",
		Header:    http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}},
		Params:    map[string]string{"accountId": "4242"},
		Lifecycle: []flow.Step{flow.StepSave, flow.StepSave, flow.StepDisable},
		EmitURL:   p.URL + "/emit",
		Settle:    time.Millisecond,
	})
	puts := p.requests(http.MethodPut)
	require.Len(t, puts, 2)
	for _, r := range puts {
		require.Equal(t, "/api/v2.1/account/4242/callback/-1", r.Path)
		require.Equal(t, "Basic dXNlcjpwYXNz", r.Header.Get("Authorization"))
	}
	require.True(t, rep.Failed())
	require.Len(t, p.live(), 2, "the broken publisher kept both subscriptions")

	orphan := deviation(t, rep, "orphaned-registration")
	require.Equal(t, flow.Error, orphan.Severity)
	require.Contains(t, orphan.Message, "step 2 (save)")
	require.Contains(t, orphan.Message, "registration 1")
	require.Equal(t, flow.Warning, deviation(t, rep, "delete-not-found").Severity, "the unhandled DELETE answers 404")
	require.Equal(t, map[int]int{1: 1, 2: 1}, rep.Steps[1].Received)
	require.False(t, rep.Steps[1].OK)
	require.Equal(t, map[int]int{1: 1, 2: 1}, rep.Steps[2].Received, "after disable both dead callbacks still fire")
	for cb, statuses := range p.delivered {
		if cb != rep.CallbackURL {
			continue
		}
		require.Equal(t, []int{http.StatusAccepted, http.StatusNotFound, http.StatusNotFound}, statuses, "a retired callback answers 404, as the platform's does")
	}
	require.Len(t, rep.Runs, 2, "only the current callback's deliveries start runs")
}

// A publisher that subscribes again without replacing (and whose DELETE
// answers 204 but removes nothing) makes one event fire twice.
func TestLifecycleDuplicateDelivery(t *testing.T) {
	t.Parallel()
	def, spec := oodrive(t)
	// The publisher stores each registration twice (a retried subscribe it
	// did not dedupe, MicrosoftDocs/azure-docs#116407), so one event goes
	// to the same callback twice.
	mux := http.NewServeMux()
	var mu sync.Mutex
	var cbs []string
	mux.HandleFunc("POST /api/v4/webhook/contract", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		cbs = append(cbs, dig(body, "endpoint", "url"), dig(body, "endpoint", "url"))
		n := len(cbs) / 2
		mu.Unlock()
		w.Header().Set("Location", absolute(r, fmt.Sprintf("/api/v4/webhook/%d", n)))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("DELETE /api/v4/webhook/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /emit", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targets := append([]string(nil), cbs...)
		mu.Unlock()
		for _, cb := range targets {
			if resp, err := http.Post(cb, "application/json", strings.NewReader(spec.event)); err == nil {
				resp.Body.Close()
			}
		}
	})
	dup := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: def,
		Trigger:   "WhenContractStatusChanged",
		BaseURL:   dup.URL + "/api/v4",
		APIKey:    "k",
		Lifecycle: []flow.Step{flow.StepSave},
		EmitURL:   dup.URL + "/emit",
		Settle:    time.Millisecond,
	})
	d := deviation(t, rep, "duplicate-delivery")
	require.Equal(t, flow.Error, d.Severity)
	require.Contains(t, d.Message, "arrived 2 times")
	require.Equal(t, map[int]int{1: 2}, rep.Steps[0].Received)
	require.False(t, rep.Has("orphaned-registration"))
}

// A Location on another host gets its DELETE without the connection's
// credentials, as the platform sends it (microsoft/PowerPlatformConnectors#3678):
// a warning at registration, and the publisher that insists on its key there
// refuses the DELETE, which is an error.
func TestForeignHostLocationDeleteWithoutCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		if r.Method != http.MethodDelete || r.Header.Get("j_token") == "" {
			http.Error(w, `{"error":"missing j_token"}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	def, spec := oodrive(t)
	spec.location = func(*http.Request, int) string { return other.URL + "/hooks/1" }
	p := newPublisher(t, spec)
	rep := run(t, flow.Config{
		Connector: def,
		Trigger:   "WhenContractStatusChanged",
		BaseURL:   p.URL + "/api/v4",
		APIKey:    "oodrive-key",
		Header:    http.Header{"X-Tenant": {"acme"}},
		Lifecycle: []flow.Step{flow.StepSave, flow.StepDelete},
	})
	w := deviation(t, rep, "location-foreign-host")
	require.Equal(t, flow.Warning, w.Severity)
	require.Contains(t, w.Message, "without credentials")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	require.Empty(t, got[0].Get("j_token"), "no API key to a foreign host")
	require.Empty(t, got[0].Get("X-Tenant"), "nor any other connection header")
	d := deviation(t, rep, "delete-failed")
	require.Equal(t, flow.Error, d.Severity)
	require.Contains(t, d.Message, "another host")
	require.Equal(t, http.StatusUnauthorized, rep.Steps[1].DeleteStatus)
	require.Equal(t, "oodrive-key", p.requests(http.MethodPost)[0].Header.Get("j_token"), "the registration itself carried the key")
}

// OpenText eDOCS declares an apiKey securityDefinition and "security": [].
// The platform still sends the connection's key, so flow does too, with an
// info finding; the bare-integer notification validates.
func TestEmptySecurityStillSendsKey(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/web-hook/create/ItemDeleted", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/api/web-hook/delete/5"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "WebHookUri"), `4711`)
	})
	mux.HandleFunc("DELETE /api/web-hook/delete/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: corpusDef(t, "certified/OpenText_eDOCS_by_One_Fox"),
		Trigger:   "ItemDeleted",
		BaseURL:   b.URL,
		APIKey:    "edocs-key",
		Runs:      1,
	})
	n.wait(t)
	require.Equal(t, "edocs-key", b.requests(http.MethodPost)[0].Header.Get("apikey"))
	require.Equal(t, "edocs-key", b.requests(http.MethodDelete)[0].Header.Get("apikey"))
	info := deviation(t, rep, "security-implicit")
	require.Equal(t, flow.Info, info.Severity)
	require.Contains(t, info.Message, `"security": [{"api_key": []}]`)
	require.False(t, rep.Has("api-key-unused"))
	require.False(t, rep.Failed(), "%v", rep.Deviations)
	require.Len(t, rep.Runs, 1)
	require.True(t, rep.Runs[0].Checked)
	require.True(t, rep.Runs[0].Valid)
}

// DataScope's notification schema is x-ms-dynamic-schema: flow calls
// Get-form-schema with the trigger's formId, as the designer does, and
// validates against what it returns. When the call fails, runs say the
// payload was NOT checked.
func TestDynamicSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		schema func(w http.ResponseWriter)
		event  string
		check  func(t *testing.T, rep *flow.Report, out string)
	}{
		{
			name: "resolved",
			schema: func(w http.ResponseWriter) {
				io.WriteString(w, `{"schema":{"type":"object","required":["answer_id"],"properties":{"answer_id":{"type":"integer"},"inspector":{"type":"string"}}}}`)
			},
			event: `{"answer_id":"not a number","inspector":"Ada"}`,
			check: func(t *testing.T, rep *flow.Report, out string) {
				require.True(t, rep.Runs[0].Checked)
				require.False(t, rep.Runs[0].Valid)
				require.Equal(t, "/answer_id", rep.Runs[0].Errors[0].Path)
				require.Contains(t, deviation(t, rep, "schema-mismatch").Message, "returned by Get-form-schema")
			},
		},
		{
			name:   "call-fails",
			schema: func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) },
			event:  `{"anything":1}`,
			check: func(t *testing.T, rep *flow.Report, out string) {
				require.Equal(t, flow.Error, deviation(t, rep, "dynamic-schema-failed").Severity)
				require.False(t, rep.Runs[0].Checked)
				require.Contains(t, out, "NOT checked")
				require.NotContains(t, out, "matches the schema")
			},
		},
		{
			name:   "no-schema-in-answer",
			schema: func(w http.ResponseWriter) { io.WriteString(w, `{"fields":[]}`) },
			event:  `{"anything":1}`,
			check: func(t *testing.T, rep *flow.Report, out string) {
				require.Contains(t, deviation(t, rep, "dynamic-schema-invalid").Message, "valid OpenAPI schema object")
				require.False(t, rep.Runs[0].Checked)
				require.NotContains(t, out, "matches the schema")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &notifier{}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /api/external/form_schema/{formId}", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("formId") != "f-9" || r.Header.Get("Authorization") != "ds-key" {
					http.Error(w, "wrong form or key", http.StatusBadRequest)
					return
				}
				tc.schema(w)
			})
			mux.HandleFunc("POST /api/external/hooks_flow/{formId}", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Location", absolute(r, "/api/external/hooks_flow/f-9/1"))
				w.WriteHeader(http.StatusCreated)
				n.post(dig(body, "subscription_url"), tc.event)
			})
			b := newBackend(t, mux)
			var out bytes.Buffer
			rep := run(t, flow.Config{
				Connector: corpusDef(t, "certified/DataScope"),
				Trigger:   "Form-answer",
				BaseURL:   b.URL + "/api/external",
				APIKey:    "ds-key",
				Params:    map[string]string{"formId": "f-9"},
				Runs:      1,
				Output:    &out,
			})
			n.wait(t)
			require.Len(t, b.requests(http.MethodGet), 1, "the schema operation is called once, before the registration")
			require.Len(t, rep.Runs, 1)
			tc.check(t, rep, out.String())
		})
	}
}

// Company Connect's TextPrompt is a webhook action: flow calls it with the
// callback URL in callbackUri, waits for the one callback and validates it
// against the path's x-ms-notification-content (PromptResult).
func TestWebhookAction(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/textPrompt", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/api/proactiveDialogs/t1/d1"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "callbackUri"), `{"text":"42","conversationReference":"c-1"}`)
	})
	mux.HandleFunc("DELETE /api/proactiveDialogs/{tenant}/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)
	def := corpusDef(t, "certified/CompanyConnect")
	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: def,
		Action:    "TextPrompt",
		BaseURL:   b.URL + "/api",
		Header:    http.Header{"Authorization": {"Bearer t"}},
		Params:    map[string]string{"prompt": "How many?", "conversationReference": "c-1"},
		Output:    &out,
	})
	require.Equal(t, []int{http.StatusAccepted}, n.wait(t))
	require.Equal(t, flow.KindAction, rep.Kind)
	reg := b.requests(http.MethodPost)[0]
	require.Equal(t, map[string]any{"callbackUri": rep.CallbackURL, "prompt": "How many?", "conversationReference": "c-1"}, reg.json(t))
	require.Len(t, rep.Runs, 1)
	require.True(t, rep.Runs[0].Checked, rep.Runs[0].Unchecked)
	require.True(t, rep.Runs[0].Valid, "%v", rep.Runs[0].Errors)
	require.Contains(t, out.String(), "waiting for the action's callback")

	// --trigger on it says to use --action.
	_, err := runErr(t, t.Context(), flow.Config{Connector: def, Trigger: "TextPrompt"})
	require.ErrorContains(t, err, "--action TextPrompt")
}

// Callback faults on Gratavid (API key in the query): what the publisher
// did after the callback answered 429, 404, 500 or slowly.
func TestCallbackFaults(t *testing.T) {
	t.Parallel()
	// A fake delivery engine: tries up to `tries` times, waiting
	// Retry-After (read as milliseconds, the tests' RetryAfterUnit) when
	// honour is set and not at all otherwise.
	type engine struct {
		tries   int
		honour  bool
		stop404 bool
		timeout time.Duration
	}
	deliver := func(e engine, cb, body string) {
		// The delivery timeout runs from when the notification is fully
		// written, as a publisher waiting for the answer times it: counted
		// from the dial (http.Client.Timeout), a loaded machine can spend it
		// before the request reaches the callback, and the try that should
		// arrive and start a run never does.
		tr := &http.Transport{ResponseHeaderTimeout: e.timeout}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for range e.tries {
			resp, err := client.Post(cb, "application/json", strings.NewReader(body))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode/100 == 2 || (e.stop404 && resp.StatusCode == http.StatusNotFound) {
				return
			}
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && e.honour {
				time.Sleep(time.Duration(ra) * time.Millisecond) // the fake publisher's own backoff
			}
		}
	}
	for _, tc := range []struct {
		name    string
		engine  engine
		cfg     flow.Config
		check   func(t *testing.T, rep *flow.Report)
		wantRun bool
	}{
		{
			name:   "429-honoured",
			engine: engine{tries: 3, honour: true},
			cfg:    flow.Config{CallbackStatus: 429, CallbackRetryAfter: 20 * time.Second, FaultCount: 1, Runs: 1},
			check: func(t *testing.T, rep *flow.Report) {
				f := rep.Faults[0]
				require.True(t, f.Delivered)
				require.Len(t, f.Attempts, 2)
				require.Equal(t, []int{429, 202}, []int{f.Attempts[0].Status, f.Attempts[1].Status})
				require.GreaterOrEqual(t, f.Attempts[1].After, 20*time.Millisecond)
				require.Contains(t, f.Outcome, "honoured Retry-After: 20")
				require.Contains(t, f.Outcome, "delivered on try 2")
				require.False(t, rep.Failed(), "%v", rep.Deviations)
			},
			wantRun: true,
		},
		{
			name:   "429-ignored",
			engine: engine{tries: 3},
			cfg:    flow.Config{CallbackStatus: 429, CallbackRetryAfter: time.Hour, FaultCount: 1, Runs: 1},
			check: func(t *testing.T, rep *flow.Report) {
				require.Equal(t, flow.Warning, deviation(t, rep, "retry-after-ignored").Severity)
				require.Contains(t, rep.Faults[0].Outcome, "ignored Retry-After: 3600")
			},
			wantRun: true,
		},
		{
			name:   "404-stopped",
			engine: engine{tries: 3, stop404: true},
			cfg:    flow.Config{CallbackStatus: 404, Timeout: time.Second},
			check: func(t *testing.T, rep *flow.Report) {
				require.Len(t, rep.Faults[0].Attempts, 1)
				require.Contains(t, rep.Faults[0].Outcome, "stopped after the 404")
				require.False(t, rep.Has("retried-after-404"))
			},
		},
		{
			name:   "404-retried",
			engine: engine{tries: 3},
			cfg:    flow.Config{CallbackStatus: 404, Timeout: time.Second},
			check: func(t *testing.T, rep *flow.Report) {
				require.Len(t, rep.Faults[0].Attempts, 3)
				require.Equal(t, flow.Warning, deviation(t, rep, "retried-after-404").Severity)
			},
		},
		{
			name:   "500-gave-up",
			engine: engine{tries: 4},
			cfg:    flow.Config{CallbackStatus: 500, Timeout: time.Second},
			check: func(t *testing.T, rep *flow.Report) {
				f := rep.Faults[0]
				require.False(t, f.Delivered)
				require.Len(t, f.Attempts, 4)
				require.Contains(t, f.Outcome, "tried 4 times")
				require.Contains(t, f.Outcome, "never delivered")
			},
		},
		{
			name:   "500-no-retry",
			engine: engine{tries: 1},
			cfg:    flow.Config{CallbackStatus: 500, Timeout: time.Second},
			check: func(t *testing.T, rep *flow.Report) {
				require.Equal(t, flow.Error, deviation(t, rep, "notification-lost").Severity)
				require.Contains(t, rep.Faults[0].Outcome, "gave up after 1 try")
			},
		},
		{
			name:   "slow-callback-resent",
			engine: engine{tries: 2, timeout: 50 * time.Millisecond},
			cfg:    flow.Config{CallbackDelay: time.Minute, FaultCount: 1, Runs: 2},
			check: func(t *testing.T, rep *flow.Report) {
				f := rep.Faults[0]
				require.NotZero(t, f.Attempts[0].HungUpAfter)
				require.Contains(t, f.Outcome, "hung up after")
				d := deviation(t, rep, "duplicate-delivery")
				require.Equal(t, flow.Error, d.Severity)
				require.Len(t, rep.Runs, 2, "the platform started a run for the request it had, and another for the copy")
			},
			wantRun: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			mux := http.NewServeMux()
			mux.HandleFunc("POST /api/manageIntegrations", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Location", absolute(r, "/api/manageIntegrations?source=microsoftPowerAutomate&event=webhookUnsubscribe&id=1"))
				w.WriteHeader(http.StatusCreated)
				cb := dig(body, "webhookURL")
				wg.Add(1)
				go func() {
					defer wg.Done()
					deliver(tc.engine, cb, `{"noteTitle":"Thanks","noteURL":"https://example.com/n/1"}`)
				}()
			})
			mux.HandleFunc("DELETE /api/manageIntegrations", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			})
			b := newBackend(t, mux)
			cfg := tc.cfg
			cfg.Connector = corpusDef(t, "certified/Gratavid")
			cfg.Trigger = "newEvent"
			cfg.BaseURL = b.URL
			cfg.APIKey = "gv-key"
			cfg.Params = map[string]string{"webookHookEvent": "reply"}
			rep := run(t, cfg)
			wg.Wait()
			reg := b.requests(http.MethodPost)[0]
			require.Contains(t, reg.RawQuery, "apiKey=gv-key", "the key travels in the query, as the definition says")
			require.Len(t, rep.Faults, 1, "%v", rep.Deviations)
			require.Equal(t, tc.wantRun, len(rep.Runs) > 0)
			tc.check(t, rep)
		})
	}
}

// --format json: one object per step and per finding.
func TestLifecycleJSON(t *testing.T) {
	t.Parallel()
	def, spec := oodrive(t)
	spec.unsubscribe = ""
	p := newPublisher(t, spec)
	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: def,
		Trigger:   "WhenContractStatusChanged",
		BaseURL:   p.URL + "/api/v4",
		APIKey:    "k",
		Lifecycle: []flow.Step{flow.StepSave, flow.StepRenew},
		EmitURL:   p.URL + "/emit",
		Settle:    time.Millisecond,
		Format:    flow.FormatJSON,
		Output:    &out,
	})
	require.True(t, rep.Failed())
	var steps, findings []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		switch m["event"] {
		case "step":
			steps = append(steps, m)
		case "finding":
			findings = append(findings, m)
		}
	}
	require.Len(t, steps, 2)
	require.Equal(t, "renew", steps[1]["step"])
	require.Equal(t, false, steps[1]["ok"])
	require.Equal(t, map[string]any{"1": float64(1), "2": float64(1)}, steps[1]["received"])
	var codes []string
	for _, f := range findings {
		codes = append(codes, f["code"].(string))
	}
	require.Contains(t, codes, "orphaned-registration")
	require.Contains(t, codes, "delete-not-found")
}

// ParseLifecycle reads lists and the preset and refuses unknown steps.
func TestParseLifecycle(t *testing.T) {
	t.Parallel()
	steps, err := flow.ParseLifecycle("save, renew,disable,enable,delete")
	require.NoError(t, err)
	require.Equal(t, []flow.Step{"save", "renew", "disable", "enable", "delete"}, steps)
	steps, err = flow.ParseLifecycle("platform")
	require.NoError(t, err)
	require.Equal(t, flow.PlatformLifecycle, steps)
	_, err = flow.ParseLifecycle("save,edit")
	require.ErrorContains(t, err, `"edit"`)
}

// Azure Communication Services SMS Events registers with PUT and an OAuth
// connection (the maker's Authorization header): a save, a credential
// renewal and a delete each send the bearer token, the callback nested four
// levels down changes with every registration, and the array notification is
// split into one run per event.
func TestLifecyclePutOAuth(t *testing.T) {
	t.Parallel()
	const prefix = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Communication/CommunicationServices/acs-1/providers/Microsoft.EventGrid/eventSubscriptions"
	p := newPublisher(t, publisherSpec{
		register: "PUT " + prefix,
		callback: func(b []byte) string {
			return dig(b, "properties", "destination", "properties", "endpointUrl")
		},
		location: func(r *http.Request, id int) string {
			return absolute(r, fmt.Sprintf("%s/%d?%s", r.URL.Path, id, r.URL.RawQuery))
		},
		unsubscribe: "DELETE " + prefix + "/{id}",
		event:       `[{"id":"1","data":{"to":"+15550001","from":"+15550002","message":"hi"}},{"id":"2","data":{"to":"+15550001","from":"+15550003","message":"yo"}}]`,
	})
	rep := run(t, flow.Config{
		Connector: connector(t, "Azure_Communication_Services_SMS_Events"),
		Trigger:   "CreateSMSReceivedEventSubscription",
		BaseURL:   p.URL,
		Header:    http.Header{"Authorization": {"Bearer acs-token"}},
		Params: map[string]string{
			"subscriptionId": "sub-1", "resourceGroupName": "rg-1", "resourceName": "acs-1",
			"toPhoneNumbers": "+15550001",
		},
		Lifecycle: []flow.Step{flow.StepSave, flow.StepRenew, flow.StepDelete},
		EmitURL:   p.URL + "/emit",
		Settle:    time.Millisecond,
	})
	require.False(t, rep.Failed(), "%v", rep.Deviations)
	require.Empty(t, p.live())
	puts := p.requests(http.MethodPut)
	require.Len(t, puts, 2)
	require.NotEqual(t,
		dig(puts[0].Body, "properties", "destination", "properties", "endpointUrl"),
		dig(puts[1].Body, "properties", "destination", "properties", "endpointUrl"))
	for _, r := range append(puts, p.requests(http.MethodDelete)...) {
		require.Equal(t, "Bearer acs-token", r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
	}
	dels := p.requests(http.MethodDelete)
	require.Len(t, dels, 2)
	require.Equal(t, prefix+"/1", dels[0].Path)
	require.Equal(t, "api-version=2022-06-15", dels[0].RawQuery, "the Location's query is sent as given")
	require.Equal(t, map[int]int{2: 1}, rep.Steps[1].Received)
	require.Len(t, rep.Runs, 4, "two emits, two events each, split into runs")
}

// --emit-cmd runs through the shell with TRIGGERD_FLOW_STEP set. A command
// that succeeds but makes the publisher send nothing is notification-missing;
// one that fails is emit-failed. Both are errors: the step saw nothing.
func TestLifecycleEmitCmd(t *testing.T) {
	t.Parallel()
	def, spec := oodrive(t)
	for _, tc := range []struct {
		name, cmd, code string
	}{
		{"sends-nothing", `test "$TRIGGERD_FLOW_STEP" = save`, "notification-missing"},
		{"fails", `echo "publisher says no" >&2; exit 3`, "emit-failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPublisher(t, spec)
			var out bytes.Buffer
			rep := run(t, flow.Config{
				Connector: def,
				Trigger:   "WhenContractStatusChanged",
				BaseURL:   p.URL + "/api/v4",
				APIKey:    "k",
				Lifecycle: []flow.Step{flow.StepSave},
				EmitCmd:   tc.cmd,
				EmitWait:  50 * time.Millisecond,
				Settle:    time.Millisecond,
				Output:    &out,
			})
			d := deviation(t, rep, tc.code)
			require.Equal(t, flow.Error, d.Severity)
			require.False(t, rep.Steps[0].OK)
			require.Empty(t, p.live(), "the registration is still removed at the end")
			if tc.code == "emit-failed" {
				require.Contains(t, out.String(), "publisher says no")
				require.False(t, rep.Steps[0].Emitted)
			}
		})
	}
}

// A dynamic schema that names an operation the definition lacks cannot be
// resolved: a warning, and the run says it was NOT checked.
func TestDynamicSchemaUnresolved(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(corpusDef(t, "certified/DataScope"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	nc := doc["paths"].(map[string]any)["/hooks_flow/{formId}"].(map[string]any)["x-ms-notification-content"].(map[string]any)
	nc["schema"].(map[string]any)["x-ms-dynamic-schema"].(map[string]any)["operationId"] = "Get-form-schema-v2"
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	def := filepath.Join(t.TempDir(), "apiDefinition.swagger.json")
	require.NoError(t, os.WriteFile(def, data, 0o600))

	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks_flow/{formId}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/hooks_flow/f-1/1"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "subscription_url"), `{"answer":1}`)
	})
	b := newBackend(t, mux)
	var out bytes.Buffer
	rep := run(t, flow.Config{
		Connector: def, Trigger: "Form-answer", BaseURL: b.URL, APIKey: "k",
		Params: map[string]string{"formId": "f-1"}, Runs: 1, Output: &out,
	})
	n.wait(t)
	d := deviation(t, rep, "dynamic-schema-unresolved")
	require.Equal(t, flow.Warning, d.Severity)
	require.Contains(t, d.Message, "NOT checked")
	require.False(t, rep.Runs[0].Checked)
	require.Contains(t, out.String(), "? NOT checked: its x-ms-dynamic-schema could not be resolved")
}

// Contradictory settings stop flow before anything is sent.
func TestConfigConflicts(t *testing.T) {
	t.Parallel()
	def, _ := oodrive(t)
	for _, tc := range []struct {
		cfg  flow.Config
		want string
	}{
		{flow.Config{Trigger: "A", Action: "B"}, "not both"},
		{flow.Config{}, "--trigger"},
		{flow.Config{Trigger: "WhenContractStatusChanged", EmitURL: "http://127.0.0.1:1/"}, "--lifecycle"},
		{flow.Config{Trigger: "WhenContractStatusChanged", CallbackRetryAfter: time.Second}, "--callback-status"},
		{flow.Config{Trigger: "WhenContractStatusChanged", FaultCount: 2}, "--fault-count"},
		{flow.Config{Trigger: "WhenContractStatusChanged", CallbackStatus: 99}, "not an HTTP status"},
		{flow.Config{Action: "WhenContractStatusChanged"}, "--trigger WhenContractStatusChanged"},
	} {
		tc.cfg.Connector = def
		tc.cfg.BaseURL = "http://127.0.0.1:1"
		_, err := runErr(t, t.Context(), tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
}
