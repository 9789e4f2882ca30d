package flow

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// callbackAPIVersion and callbackSV are the fixed query values of a Logic
// Apps trigger callback URL
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
const (
	callbackAPIVersion = "2016-06-01"
	callbackSV         = "1.0"
)

// callback is the URL the platform hands to the publisher, shaped like the
// real one (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers):
//
//	/workflows/<id>/triggers/<name>/versions/<v>/run?api-version=2016-06-01&sp=%2Ftriggers%2F…&sv=1.0&sig=<random>
//
// The %2F-escaped sp and the random sig are what a publisher that decodes,
// re-encodes or rebuilds the query string (url.Values.Encode) breaks; the
// handler compares what arrives with what was handed out.
type callback struct {
	workflowID string
	trigger    string
	version    string
	sig        string
	// path and rawQuery are what the publisher must send back verbatim.
	path     string
	rawQuery string
	// url is the whole callback URL given to the publisher.
	url string
}

// triggerNameChars are the characters the designer keeps when it names a
// trigger after its summary ("When a guest is invited" → When_a_guest_is_invited).
var triggerNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// newWorkflowID is a workflow id like the engine's: 32 hex digits. One flow
// keeps its id across saves; only the version in its callback URLs changes.
func newWorkflowID() (string, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("flow: workflow id: %w", err)
	}
	return hex.EncodeToString(id), nil
}

// newCallback makes the callback URL of one version of workflowID's trigger.
func newCallback(base, workflowID, summary string) (*callback, error) {
	name := strings.Trim(triggerNameChars.ReplaceAllString(summary, "_"), "_")
	if name == "" {
		name = "manual"
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Versions are 20-digit numbers starting 0858… in real URLs.
	n, err := rand.Int(rand.Reader, big.NewInt(1e15))
	if err != nil {
		return nil, err
	}
	c := &callback{
		workflowID: workflowID,
		trigger:    name,
		version:    fmt.Sprintf("08585%015d", n),
		sig:        base64.RawURLEncoding.EncodeToString(key),
	}
	prefix := "/triggers/" + c.trigger + "/versions/" + c.version
	c.path = "/workflows/" + c.workflowID + prefix + "/run"
	c.rawQuery = "api-version=" + callbackAPIVersion +
		"&sp=" + url.QueryEscape(prefix+"/run,"+prefix+"/read") +
		"&sv=" + callbackSV +
		"&sig=" + c.sig
	bu, err := url.Parse(base)
	if err != nil || bu.Scheme == "" || bu.Host == "" {
		return nil, fmt.Errorf("flow: callback base %q is not an absolute URL", base)
	}
	c.path = strings.TrimSuffix(bu.EscapedPath(), "/") + c.path
	c.url = bu.Scheme + "://" + bu.Host + c.path + "?" + c.rawQuery
	return c, nil
}

// queryCheck compares the query a notification arrived with against the one
// handed out. bad names a signed value that changed or went missing (the
// platform would refuse the call); reencoded is true when every value
// survived but the bytes differ (decoded, re-escaped or re-ordered).
func (c *callback) queryCheck(raw string) (bad string, reencoded bool) {
	if raw == c.rawQuery {
		return "", false
	}
	got, err := url.ParseQuery(raw)
	if err != nil {
		return "the query string (unparseable: " + err.Error() + ")", false
	}
	want, _ := url.ParseQuery(c.rawQuery)
	for _, k := range []string{"sig", "sp", "sv", "api-version"} {
		if got.Get(k) != want.Get(k) {
			return k, false
		}
	}
	return "", true
}

// listenBase is the callback base URL for a listener: its address, with an
// unspecified host (":8080") replaced by loopback.
func listenBase(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
