package flow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// userAgent resembles the Logic Apps engine's, so publisher logs read like
// the real thing, and names flow so nobody mistakes it for the platform.
const userAgent = "azure-logic-apps/1.0 (triggerd flow)"

// credential is where the connection's secret goes, from the definition's
// securityDefinitions (https://swagger.io/specification/v2/).
type credential struct {
	scheme string // securityDefinitions key
	typ    string // apiKey, basic, oauth2
	in     string // header or query, for apiKey
	name   string // header or query parameter name, for apiKey
}

// credentials lists the schemes the connection fills for the trigger: those
// of the first security requirement that applies (the operation's own, else
// the document's). A definition whose requirement list is empty or missing
// still gets a connection built from its securityDefinitions, and the
// platform sends that connection's key on every call (23 of 182 real
// webhook connectors rely on this, OpenText eDOCS among them); implicit then
// names the scheme flow chose, so checkCredentials can say so.
func (s *session) credentials() (creds []credential, implicit bool) {
	reqs := s.def.doc.Security
	if s.t.op.Security != nil {
		reqs = *s.t.op.Security
	}
	var names []string
	if len(reqs) > 0 {
		for n := range reqs[0] {
			names = append(names, n)
		}
	} else {
		for n := range s.def.doc.SecurityDefinitions {
			names = append(names, n)
		}
		implicit = len(names) > 0
	}
	slices.Sort(names)
	if implicit {
		// A connection has one set of connection parameters; with several
		// definitions and no requirement, the first by name stands in.
		names = names[:1]
	}
	for _, n := range names {
		sd := s.def.doc.SecurityDefinitions[n]
		if sd == nil {
			continue
		}
		creds = append(creds, credential{scheme: n, typ: sd.Type, in: sd.In, name: sd.Name})
	}
	return creds, implicit && len(creds) > 0
}

// checkCredentials warns once when the definition asks for a credential the
// command line did not give: the platform always sends the connection's.
func (s *session) checkCredentials() {
	creds, implicit := s.credentials()
	if implicit {
		c := creds[0]
		s.deviate(Info, "definition", "security-implicit",
			"the definition declares securityDefinitions %q (%s) but no security requirement (\"security\": [] or none) for this operation. The platform still builds the connection from %q and sends its credential on every call, so flow sends it too; declare \"security\": [{%q: []}] so that the file says what happens", c.scheme, c.typ, c.scheme, c.scheme)
	}
	hasAPIKey := false
	for _, c := range creds {
		switch c.typ {
		case "apiKey":
			hasAPIKey = true
			if s.cfg.APIKey == "" {
				s.deviate(Warning, "definition", "no-credentials",
					"the definition's security scheme %q wants an API key in %s %q and no --api-key was given; requests go without it", c.scheme, c.in, c.name)
			}
		case "basic", "oauth2":
			if s.cfg.Header.Get("Authorization") == "" {
				form := "Basic <base64 user:password>"
				if c.typ == "oauth2" {
					form = "Bearer <access token>"
				}
				s.deviate(Warning, "definition", "no-credentials",
					"the definition's security scheme %q is %s; the platform sends the connection's Authorization header, and none was given: pass --header \"Authorization: %s\"", c.scheme, c.typ, form)
			}
		}
	}
	if s.cfg.APIKey != "" && !hasAPIKey {
		s.deviate(Warning, "definition", "api-key-unused",
			"--api-key was given but the definition declares no apiKey security scheme, so the platform would have no key to send and flow does not send it; use --header for other credentials")
	}
}

// authorize adds the connection's credentials. The platform uses the same
// connection for registration, polls and the DELETE ("The same connection
// used in the connector is also used for the delete webhook call",
// https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
// Config.Header counts as part of the connection: basic and OAuth
// connections carry their Authorization there.
func (s *session) authorize(req *http.Request) {
	for name, vs := range s.cfg.Header {
		req.Header[name] = slices.Clone(vs)
	}
	if s.cfg.APIKey == "" {
		return
	}
	creds, _ := s.credentials()
	for _, c := range creds {
		if c.typ != "apiKey" {
			continue
		}
		switch c.in {
		case "header":
			req.Header.Set(c.name, s.cfg.APIKey)
		case "query":
			q := req.URL.Query()
			if q.Get(c.name) == "" {
				// Append rather than re-encode, so a Location URL's own
				// query reaches the publisher byte for byte.
				sep := "&"
				if req.URL.RawQuery == "" {
					sep = ""
				}
				req.URL.RawQuery += sep + url.QueryEscape(c.name) + "=" + url.QueryEscape(s.cfg.APIKey)
			}
		}
	}
}

// response is a publisher's answer, body read.
type response struct {
	status int
	text   string // "201 Created"
	header http.Header
	body   []byte
}

// send sends one request to the publisher, with the connection's
// credentials when withCreds is set.
func (s *session) send(ctx context.Context, method, target string, header http.Header, body []byte, withCreds bool) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for name, vs := range header {
		req.Header[name] = slices.Clone(vs)
	}
	if withCreds {
		s.authorize(req)
	}
	s.out.request(method, s.redact(req.URL.String()), body)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, s.redact(target), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, s.redact(target), err)
	}
	r := &response{status: resp.StatusCode, text: resp.Status, header: resp.Header, body: data}
	s.out.response(r)
	return r, nil
}

// redact hides an API key travelling in the query string from the output.
func (s *session) redact(target string) string {
	if s.cfg.APIKey == "" {
		return target
	}
	return strings.ReplaceAll(target, url.QueryEscape(s.cfg.APIKey), "***")
}

// resolveLocation makes a Location absolute. The platform's documented
// contract is an absolute URL
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger);
// a
// relative one is resolved against the request it answered (RFC 9110
// §10.2.2) and reported.
func (s *session) resolveLocation(stage, loc, requestURL string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("location %q is not a URL: %w", loc, err)
	}
	if u.IsAbs() {
		return loc, nil
	}
	base, err := url.Parse(requestURL)
	if err != nil {
		return "", err
	}
	abs := base.ResolveReference(u).String()
	s.deviate(Warning, stage, "relative-location",
		"Location %q is relative; the platform expects an absolute URL (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger) and no source says it resolves relative ones; flow resolved it to %s", loc, abs)
	return abs, nil
}
