package flow_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

const (
	validInvite = `{"id":7,"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","sent_email":true,
		"hosts":[{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"}],"watchlists":[],
		"start_date":"2025-03-01T09:00:00Z"}`
	// hosts is not an array, id overflows int32, last_name is missing.
	invalidInvite = `{"id":4294967296,"first_name":"Bob","sent_email":false,"hosts":"Grace","watchlists":[]}`
)

// TractionGuest: top-level callback property "url", an internal "event"
// with a default, OAuth (the maker passes the Authorization header), 201 +
// Location, DELETE /webhooks/{hook_id}.
func TestTractionGuestWebhook(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/webhooks/invite", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/api/v2/webhooks/42"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":42}`)
		n.post(dig(body, "url"), validInvite, invalidInvite)
	})
	mux.HandleFunc("DELETE /api/v2/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "TractionGuest"),
		Trigger:   "CreateInviteWebhook",
		BaseURL:   b.URL + "/api/v2",
		Header:    http.Header{"Authorization": {"Bearer test-token"}},
		Runs:      2,
	})

	regs := b.requests(http.MethodPost)
	require.Len(t, regs, 1)
	require.Equal(t, "/api/v2/webhooks/invite", regs[0].Path)
	require.Equal(t, "Bearer test-token", regs[0].Header.Get("Authorization"))
	require.Equal(t, "application/json", regs[0].Header.Get("Content-Type"))
	require.Equal(t, map[string]any{"event": "invite", "url": rep.CallbackURL}, regs[0].json(t))
	require.Regexp(t, fmt.Sprintf(callbackShape, "When_a_guest_is_invited", "When_a_guest_is_invited", "When_a_guest_is_invited"), rep.CallbackURL)

	require.Equal(t, []int{http.StatusAccepted, http.StatusAccepted}, n.wait(t))
	require.Len(t, rep.Runs, 2)
	require.True(t, rep.Runs[0].Valid, "%v", rep.Runs[0].Errors)
	require.Equal(t, "Ada", rep.Runs[0].Body.(map[string]any)["first_name"])
	require.Equal(t, "application/json", rep.Runs[0].Headers["Content-Type"])
	require.False(t, rep.Runs[1].Valid)
	paths := map[string]string{}
	for _, e := range rep.Runs[1].Errors {
		paths[e.Path] = e.Message
	}
	require.Contains(t, paths, "/hosts")
	require.Contains(t, paths, "/id")
	require.Contains(t, paths["/"], "last_name")

	require.True(t, rep.Failed())
	require.Equal(t, []string{"schema-mismatch"}, codes(rep, flow.Error))
	require.Contains(t, deviation(t, rep, "schema-mismatch").Message, "/hosts")
	// TractionGuest's DELETE operation really is not internal.
	require.Equal(t, []string{"delete-not-internal"}, codes(rep, flow.Warning))

	dels := b.requests(http.MethodDelete)
	require.Len(t, dels, 1)
	require.Equal(t, "/api/v2/webhooks/42", dels[0].Path)
	require.Equal(t, "Bearer test-token", dels[0].Header.Get("Authorization"), "the DELETE carries the connection's credentials")
	require.Equal(t, http.StatusNoContent, rep.DeleteStatus)
}

// Alvao: basic auth, a visible required integer from --param, an optional
// visible string from --param, one left out; a clean run has no deviation.
func TestAlvaoWebhook(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /AlvaoRestApi/webhooks/ticketfieldchanged", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/AlvaoRestApi/webhooks/abc"))
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "webhookUrl"), `{"requestId":1001,"personId":5}`)
	})
	mux.HandleFunc("DELETE /AlvaoRestApi/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "TicketFieldChanged",
		BaseURL:   b.URL + "/AlvaoRestApi",
		Header:    http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}},
		Params:    map[string]string{"fieldId": "17", "process": "Incident"},
		Runs:      1,
	})

	regs := b.requests(http.MethodPost)
	require.Len(t, regs, 1)
	require.JSONEq(t, fmt.Sprintf(`{"fieldId":17,"process":"Incident","webhookUrl":%q}`, rep.CallbackURL), string(regs[0].Body))
	require.Equal(t, "Basic dXNlcjpwYXNz", regs[0].Header.Get("Authorization"))
	require.Equal(t, []int{http.StatusAccepted}, n.wait(t))
	require.Len(t, rep.Runs, 1)
	require.True(t, rep.Runs[0].Valid)
	require.False(t, rep.Failed())
	require.Empty(t, rep.Deviations)
	dels := b.requests(http.MethodDelete)
	require.Len(t, dels, 1)
	require.Equal(t, "/AlvaoRestApi/webhooks/abc", dels[0].Path)
	require.Equal(t, "Basic dXNlcjpwYXNz", dels[0].Header.Get("Authorization"))
}

// A required visible input without --param stops flow before anything is
// sent, naming the input and its label; an unknown --param lists the inputs.
func TestMissingAndUnknownParams(t *testing.T) {
	t.Parallel()
	_, err := runErr(t, context.Background(), flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "TicketFieldChanged",
		BaseURL:   "http://127.0.0.1:1",
	})
	require.ErrorContains(t, err, "fieldId")
	require.ErrorContains(t, err, "Field Name")
	require.ErrorContains(t, err, "--param fieldId=VALUE")

	_, err = runErr(t, context.Background(), flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "TicketFieldChanged",
		BaseURL:   "http://127.0.0.1:1",
		Params:    map[string]string{"fieldId": "1", "fieldid": "2"},
	})
	require.ErrorContains(t, err, "--param fieldid matches no input")
	require.ErrorContains(t, err, "process")

	_, err = runErr(t, context.Background(), flow.Config{
		Connector: connector(t, "TractionGuest"),
		Trigger:   "CreateInviteWebhook",
		BaseURL:   "http://127.0.0.1:1",
		Params:    map[string]string{"event": "signin"},
	})
	require.ErrorContains(t, err, "internal")

	_, err = runErr(t, context.Background(), flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "TicketFieldChanged",
		BaseURL:   "http://127.0.0.1:1",
		Params:    map[string]string{"fieldId": "seventeen"},
	})
	require.ErrorContains(t, err, "integer")
}

// An operationId that is no trigger lists the triggers there are.
func TestUnknownTrigger(t *testing.T) {
	t.Parallel()
	_, err := runErr(t, context.Background(), flow.Config{Connector: connector(t, "Alvao"), Trigger: "Nope"})
	require.ErrorContains(t, err, "TicketFieldChanged")
	require.ErrorContains(t, err, "ObjectCreated")

	_, err = runErr(t, context.Background(), flow.Config{Connector: connector(t, "Alvao"), Trigger: "DeleteWebhook"})
	require.ErrorContains(t, err, "without x-ms-trigger")
}

// Cloud BOT answers the registration 200 with a lower-case "location":
// a warning, not a failure. Path and header parameters are filled.
func TestCloudBOTWebhook200(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{public_id}/bots/{bot_id}/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header()["location"] = []string{absolute(r, r.URL.Path+"/99")}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"code":0,"subscribe_id":99}`)
		n.post(dig(body, "callback_endpoint"), `{"code":0,"job_id":"j-1","bot_id":"b-7","status":2,"elapsed_time":12,"output":{"data1":"x"}}`)
	})
	mux.HandleFunc("DELETE /{public_id}/bots/{bot_id}/subscriptions/{subscribe_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0}`)
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "Cloud_BOT"),
		Trigger:   "BotDone",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Bearer t"}},
		Params:    map[string]string{"public_id": "acme", "bot_id": "b-7"},
		Runs:      1,
	})

	regs := b.requests(http.MethodPost)
	require.Len(t, regs, 1)
	require.Equal(t, "/acme/bots/b-7/subscriptions", regs[0].Path)
	require.Equal(t, "ja", regs[0].Header.Get("x-cbot-content-language"), "a required visible input with a default is pre-filled")
	require.Equal(t, "application/json", regs[0].Header.Get("x-cbot-content-type"), "internal header default")
	require.Equal(t, map[string]any{"callback_endpoint": rep.CallbackURL, "event": "onended"}, regs[0].json(t))
	require.Equal(t, []int{http.StatusAccepted}, n.wait(t))

	require.False(t, rep.Failed(), "%v", rep.Deviations)
	require.Equal(t, []string{"status-not-201"}, codes(rep, flow.Warning))
	require.Contains(t, deviation(t, rep, "status-not-201").Message, "201")
	require.Len(t, rep.Runs, 1)
	require.True(t, rep.Runs[0].Valid)
	dels := b.requests(http.MethodDelete)
	require.Len(t, dels, 1)
	require.Equal(t, "/acme/bots/b-7/subscriptions/99", dels[0].Path)
	require.Equal(t, http.StatusOK, rep.DeleteStatus)
}

// BoldSign: a visible query parameter beside an internal body property of
// the same name, many internal defaults, a DELETE whose id travels in the
// Location's query. The maker stops the flow (Ctrl-C) after one run.
func TestBoldSignWebhookDeleteByQuery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux := http.NewServeMux()
	done := make(chan int, 1)
	mux.HandleFunc("POST /WebHooks/AddWebHooksAPIForPowerAutomate", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", absolute(r, "/WebHooks/RemoveWebHooksAPI?webHookIds=wh-123"))
		w.WriteHeader(http.StatusCreated)
		cb := dig(body, "url")
		go func() {
			resp, err := http.Post(cb, "application/json", strings.NewReader(`{"event":{"id":"e1","eventType":"Signed","created":1700000000},"data":{"documentId":"d1","status":"Completed"}}`))
			if err != nil {
				done <- 0
				cancel()
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
			cancel() // the maker presses Ctrl-C
		}()
	})
	mux.HandleFunc("DELETE /WebHooks/RemoveWebHooksAPI", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("webHookIds") == "" {
			http.Error(w, "missing id", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	b := newBackend(t, mux)

	rep, err := runErr(t, ctx, flow.Config{
		Connector: connector(t, "BoldSign"),
		Trigger:   "WebHooks",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Bearer t"}},
		Params:    map[string]string{"events": "Signed"},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, <-done)

	regs := b.requests(http.MethodPost)
	require.Len(t, regs, 1)
	require.Equal(t, "events=Signed", regs[0].RawQuery)
	require.Equal(t, map[string]any{
		"name": "Power Automate Webhook", "events": "Sent", "environment": "Live", "isActive": true,
		"webhookType": "AccountCallback", "adminMode": false, "url": rep.CallbackURL,
	}, regs[0].json(t), "internal defaults filled, optional internal developerAppId left out")

	require.Len(t, rep.Runs, 1)
	require.True(t, rep.Runs[0].Valid)
	require.False(t, rep.Failed(), "%v", rep.Deviations)
	dels := b.requests(http.MethodDelete)
	require.Len(t, dels, 1)
	require.Equal(t, "/WebHooks/RemoveWebHooksAPI", dels[0].Path)
	require.Equal(t, "webHookIds=wh-123", dels[0].RawQuery)
	require.Equal(t, http.StatusOK, rep.DeleteStatus)
}

// Azure Communication Services SMS Events: PUT, the callback four levels
// deep with internal defaults beside it, an array notification split into
// one run per event, and a bad item reported with its index.
func TestACSWebhookNestedCallbackAndSplit(t *testing.T) {
	t.Parallel()
	const prefix = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Communication/CommunicationServices/acs-1/providers/Microsoft.EventGrid/eventSubscriptions"
	events := `[{"id":"1","data":{"to":"+15550001","from":"+15550002","message":"hi"}},
		{"id":"2","data":{"to":15550001,"from":"+15550003","message":"hello"}}]`
	for _, tc := range []struct {
		name     string
		splitOn  *bool
		runs     int
		wantRuns int
	}{
		{name: "split", runs: 2, wantRuns: 2},
		{name: "no-split", splitOn: new(false), runs: 1, wantRuns: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &notifier{}
			mux := http.NewServeMux()
			mux.HandleFunc("PUT "+prefix, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				// The connector's script synthesizes Location = request URI + "/" + name.
				w.Header().Set("Location", absolute(r, r.URL.Path+"/flow-sub?"+r.URL.RawQuery))
				w.WriteHeader(http.StatusCreated)
				n.post(dig(body, "properties", "destination", "properties", "endpointUrl"), events)
			})
			mux.HandleFunc("DELETE "+prefix+"/{name}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
			})
			b := newBackend(t, mux)

			rep := run(t, flow.Config{
				Connector: connector(t, "Azure_Communication_Services_SMS_Events"),
				Trigger:   "CreateSMSReceivedEventSubscription",
				BaseURL:   b.URL,
				Params: map[string]string{
					"subscriptionId": "sub-1", "resourceGroupName": "rg-1", "resourceName": "acs-1",
					"toPhoneNumbers": "+15550001",
				},
				SplitOn: tc.splitOn,
				Runs:    tc.runs,
			})

			regs := b.requests(http.MethodPut)
			require.Len(t, regs, 1)
			require.Equal(t, prefix, regs[0].Path)
			require.Equal(t, "api-version=2022-06-15", regs[0].RawQuery)
			require.Equal(t, map[string]any{
				"toPhoneNumbers": []any{"+15550001"},
				"properties": map[string]any{
					"destination": map[string]any{
						"endpointType": "WebHook",
						"properties":   map[string]any{"endpointUrl": rep.CallbackURL},
					},
					"filter": map[string]any{"includedEventTypes": []any{"Microsoft.Communication.SMSReceived"}},
				},
			}, regs[0].json(t))
			require.Equal(t, []int{http.StatusAccepted}, n.wait(t))

			require.Len(t, rep.Runs, tc.wantRuns)
			require.True(t, rep.Failed())
			if tc.wantRuns == 2 {
				require.Equal(t, 0, rep.Runs[0].Item)
				require.True(t, rep.Runs[0].Valid)
				require.Equal(t, 1, rep.Runs[1].Item)
				require.Equal(t, rep.Runs[0].Source, rep.Runs[1].Source, "both runs come from one notification")
				require.Equal(t, []flow.SchemaError{{Path: "/1/data/to", Message: rep.Runs[1].Errors[0].Message}}, rep.Runs[1].Errors)
			} else {
				require.Equal(t, -1, rep.Runs[0].Item)
				require.Len(t, rep.Runs[0].Body, 2)
				require.Equal(t, "/1/data/to", rep.Runs[0].Errors[0].Path)
			}
			dels := b.requests(http.MethodDelete)
			require.Len(t, dels, 1)
			require.Equal(t, prefix+"/flow-sub", dels[0].Path)
			require.Equal(t, "api-version=2022-06-15", dels[0].RawQuery)
		})
	}
}

// No Location: a failure that explains the webhook is never deleted, and no
// DELETE goes anywhere.
func TestMissingLocation(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/signin", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "url"), `{"id":1,"hosts":[],"watchlists":[],"acknowledged":true}`)
	})
	b := newBackend(t, mux)

	rep := run(t, flow.Config{
		Connector: connector(t, "TractionGuest"),
		Trigger:   "CreateSigninWebhook",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Bearer t"}},
		Runs:      1,
	})
	n.wait(t)
	require.True(t, rep.Failed())
	d := deviation(t, rep, "missing-location")
	require.Equal(t, flow.Error, d.Severity)
	require.Contains(t, d.Message, "never deleted")
	require.Len(t, rep.Runs, 1, "notifications still arrive: the subscription exists")
	require.Empty(t, b.requests(http.MethodDelete))
	require.Zero(t, rep.DeleteStatus)
}

// A failed registration ends the flow at once, with the publisher's answer.
func TestRegistrationRejected(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/signout", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"token lacks admin:webhooks"}`, http.StatusForbidden)
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: connector(t, "TractionGuest"),
		Trigger:   "CreateSignoutWebhook",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Bearer t"}},
	})
	require.True(t, rep.Failed())
	require.Contains(t, deviation(t, rep, "registration-failed").Message, "admin:webhooks")
	require.Empty(t, b.requests(http.MethodDelete))
}

// A relative Location is resolved and reported, and a DELETE the publisher
// refuses is a failure that says why it matters.
func TestRelativeLocationAndRefusedDelete(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/webhooks/watchlist", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", "/api/v2/webhooks/7")
		w.WriteHeader(http.StatusCreated)
		n.post(dig(body, "url"), `{}`)
	})
	mux.HandleFunc("DELETE /api/v2/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: connector(t, "TractionGuest"),
		Trigger:   "CreateWatchlistWebhook",
		BaseURL:   b.URL + "/api/v2",
		Header:    http.Header{"Authorization": {"Bearer t"}},
		Runs:      1,
	})
	n.wait(t)
	require.Equal(t, b.URL+"/api/v2/webhooks/7", rep.Location)
	require.Equal(t, flow.Warning, deviation(t, rep, "relative-location").Severity)
	dels := b.requests(http.MethodDelete)
	require.Len(t, dels, 1)
	require.Equal(t, "/api/v2/webhooks/7", dels[0].Path)
	require.Equal(t, http.StatusForbidden, rep.DeleteStatus)
	d := deviation(t, rep, "delete-failed")
	require.Equal(t, flow.Error, d.Severity)
	require.Contains(t, d.Message, "credentials")
}

// Publishers that rebuild the callback URL: re-encoding the query keeps the
// signed values (a warning; the run starts), losing the sig does not (401,
// no run, a failure).
func TestCallbackQueryMangling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		mangle   func(string) string
		severity flow.Severity
		code     string
		status   int
	}{
		{
			name: "reencoded",
			mangle: func(cb string) string {
				u, _ := url.Parse(cb)
				u.RawQuery = u.Query().Encode() // re-orders and re-escapes
				return u.String()
			},
			severity: flow.Warning, code: "callback-query-reencoded", status: http.StatusAccepted,
		},
		{
			name: "decoded",
			mangle: func(cb string) string {
				s, _ := url.QueryUnescape(cb) // what MoreApp's script did
				return s
			},
			severity: flow.Warning, code: "callback-query-reencoded", status: http.StatusAccepted,
		},
		{
			name: "sig-lost",
			mangle: func(cb string) string {
				i := strings.Index(cb, "&sig=")
				return cb[:i]
			},
			severity: flow.Error, code: "callback-signature", status: http.StatusUnauthorized,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &notifier{}
			mux := http.NewServeMux()
			mux.HandleFunc("POST /webhooks/objectcreated", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				cb := dig(body, "webhookUrl")
				w.Header().Set("Location", absolute(r, "/webhooks/1"))
				w.WriteHeader(http.StatusCreated)
				// The mangled delivery first, then a verbatim one so the flow
				// reaches its one run either way.
				n.post(tc.mangle(cb), `{"objectId":1}`)
				n.wg.Wait()
				n.post(cb, `{"objectId":2}`)
			})
			mux.HandleFunc("DELETE /webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			})
			b := newBackend(t, mux)
			runs := 1
			if tc.severity == flow.Warning {
				runs = 2
			}
			rep := run(t, flow.Config{
				Connector: connector(t, "Alvao"),
				Trigger:   "ObjectCreated",
				BaseURL:   b.URL,
				Header:    http.Header{"Authorization": {"Basic eDp5"}},
				Runs:      runs,
			})
			statuses := n.wait(t)
			require.Equal(t, tc.status, statuses[0])
			d := deviation(t, rep, tc.code)
			require.Equal(t, tc.severity, d.Severity)
			require.Contains(t, d.Message, "verbatim")
			require.Equal(t, tc.severity == flow.Error, rep.Failed())
			require.Len(t, rep.Runs, runs)
		})
	}
}

// --timeout before --runs is a failure; a Ctrl-C is not (see BoldSign).
func TestTimeoutBeforeRuns(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/objectmoved", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", absolute(r, "/webhooks/5"))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("DELETE /webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)
	rep := run(t, flow.Config{
		Connector: connector(t, "Alvao"),
		Trigger:   "ObjectMoved",
		BaseURL:   b.URL,
		Header:    http.Header{"Authorization": {"Basic eDp5"}},
		Runs:      1,
		Timeout:   500 * time.Millisecond,
	})
	require.Equal(t, flow.Error, deviation(t, rep, "runs-not-reached").Severity)
	require.Len(t, b.requests(http.MethodDelete), 1, "the trigger is removed on timeout too")
}

// --callback-url hands the publisher a tunnel's URL; what the tunnel forwards
// reaches the listener with the prefix intact. OnSubscribed fires once the
// registration succeeded, which is when a test publishes.
func TestCallbackURLThroughTunnel(t *testing.T) {
	t.Parallel()
	var target atomic.Pointer[url.URL]
	tunnel := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target.Load())
	}})
	t.Cleanup(tunnel.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/objectcreated", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", absolute(r, "/webhooks/3"))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("DELETE /webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	b := newBackend(t, mux)
	n := &notifier{}
	var subscribed string
	rep := run(t, flow.Config{
		Connector:   connector(t, "Alvao"),
		Trigger:     "ObjectCreated",
		BaseURL:     b.URL,
		Header:      http.Header{"Authorization": {"Basic eDp5"}},
		CallbackURL: tunnel.URL + "/tunnel",
		Runs:        1,
		OnListen: func(addr net.Addr, callbackURL string) {
			target.Store(&url.URL{Scheme: "http", Host: addr.String()})
		},
		OnSubscribed: func(location string) {
			subscribed = location
			n.post(dig(b.requests(http.MethodPost)[0].Body, "webhookUrl"), `{"objectId":3}`)
		},
	})
	require.Equal(t, []int{http.StatusAccepted}, n.wait(t))
	require.True(t, strings.HasPrefix(rep.CallbackURL, tunnel.URL+"/tunnel/workflows/"), rep.CallbackURL)
	require.Equal(t, b.URL+"/webhooks/3", subscribed)
	require.Len(t, rep.Runs, 1)
	require.False(t, rep.Failed(), "%v", rep.Deviations)
}
