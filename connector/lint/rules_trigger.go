package lint

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// callback is a body property flagged x-ms-notification-url: true, where
// the platform puts the callback URL when it registers a webhook
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
type callback struct {
	body  param        // the operation's body parameter
	prop  *node        // the flagged schema (resolved)
	chain []schemaStep // from the body schema down to prop
}

// triggerRules applies the webhook rules of Microsoft's validator and
// triggerd's trigger rules.
func (l *linter) triggerRules() {
	callbacks, inBody := l.findCallbacks()
	l.notificationURLPositionRules(inBody)

	var deletes []*operation
	for _, o := range l.ops {
		if o.method == "delete" {
			deletes = append(deletes, o)
		}
	}
	for _, o := range l.ops {
		cbs := callbacks[o]
		for _, cb := range cbs {
			l.callbackRules(o, cb)
		}
		if nc := o.op.get("x-ms-notification-content"); nc != nil {
			l.report(ruleNotificationContentInsideOperation, nc,
				"x-ms-notification-content is inside operation '%s', where the designer does not read it. Move it up to the path item %s, beside %q (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).",
				o.label(), o.item.path(), o.method)
		}
		if len(cbs) > 0 && !o.isTrigger() && looksLikeTrigger(o) {
			l.reportMissing(ruleWebhookOperationMissingTriggerExtension, o.op, "x-ms-trigger",
				`The operation '%s' has a notification URL property but no 'x-ms-trigger' extension, so the designer shows it as an action instead of a trigger. Add "x-ms-trigger": "single".`,
				o.label())
		}
		if len(cbs) > 0 && o.isTrigger() && o.notificationContent() == nil {
			l.reportMissing(ruleOperationMustHaveNotificationContentExtension, o.item, "x-ms-notification-content",
				"The operation '%s' is missing notification content extension as it has '%d' properties marked as notification URL.",
				o.label(), len(cbs))
		}
		switch {
		case l.isWebhookTrigger(o, cbs):
			if len(cbs) == 0 {
				l.report(ruleWebhookOperationsMissingNotificationURL, o.op,
					"The webhook operation '%s' is missing notification URL property.", o.label())
			}
			l.webhookOutputRules(o)
			l.webhookDeleteRules(o, deletes)
		case l.isPollingTrigger(o):
			l.pollingRules(o)
		}
	}
}

// isWebhookTrigger reports whether o is a webhook trigger: an x-ms-trigger
// operation with a notification-URL property, or one that registers (POST,
// PUT, PATCH) on a path carrying x-ms-notification-content (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
func (l *linter) isWebhookTrigger(o *operation, cbs []callback) bool {
	if !o.isTrigger() {
		return false
	}
	if len(cbs) > 0 {
		return true
	}
	switch o.method {
	case "post", "put", "patch":
		return o.notificationContent() != nil
	}
	return false
}

// isPollingTrigger reports whether o is a polling trigger: an x-ms-trigger
// GET, or any trigger with x-ms-trigger-metadata mode "polling" (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
func (l *linter) isPollingTrigger(o *operation) bool {
	if !o.isTrigger() {
		return false
	}
	return o.method == "get" || o.op.get("x-ms-trigger-metadata").get("mode").text() == "polling"
}

// findCallbacks walks the body schema of every operation and returns the
// properties flagged x-ms-notification-url: true, per operation, and the set
// of schemas that are part of some operation's input body.
func (l *linter) findCallbacks() (map[*operation][]callback, map[*node]bool) {
	callbacks := make(map[*operation][]callback)
	inBody := make(map[*node]bool)
	for _, o := range l.ops {
		for _, body := range o.bodyParams() {
			l.walkSchema(body.n.get("schema"), func(n *node, chain []schemaStep) {
				inBody[n] = true
				if n.get("x-ms-notification-url").isTrue() {
					callbacks[o] = append(callbacks[o], callback{body: body, prop: n, chain: chain})
				}
			})
		}
	}
	return callbacks, inBody
}

// notificationURLPositionRules reports x-ms-notification-url: true anywhere
// but in an operation's input body: on a non-body parameter, on the body
// parameter itself, on an operation, in a response or notification schema.
// A definition no operation uses is not a position at all and is skipped.
func (l *linter) notificationURLPositionRules(inBody map[*node]bool) {
	// Schemas of outputs (responses, notification content) describe what
	// the API sends; a flag there is meaningless but harmless.
	used, output := make(map[*node]bool), make(map[*node]bool)
	mark := func(s *node) {
		l.walkSchema(s, func(n *node, _ []schemaStep) { used[n], output[n] = true, true })
	}
	for _, o := range l.ops {
		if nc := o.notificationContent(); nc != nil {
			mark(nc.get("schema"))
		}
		_, resps := l.responses(o)
		for _, r := range resps {
			mark(r.get("schema"))
		}
	}
	definitions := l.root.get("definitions")
	var scan func(n *node, depth int)
	scan = func(n *node, depth int) {
		if depth > maxDepth {
			return
		}
		switch n.kind {
		case kindObject:
			if flag := n.get("x-ms-notification-url"); flag.isTrue() && !inBody[n] && !output[n] {
				if !isUnder(n, definitions) || used[n] {
					l.report(ruleNotificationURLNotAllowedInThisPosition, flag,
						"The notification URL property is not allowed in this position. It is allowed only in input body.")
				}
			}
			n.members(func(key string, v *node) {
				if !isExampleKey(key) {
					scan(v, depth+1)
				}
			})
		case kindArray:
			for _, e := range n.items {
				scan(e, depth+1)
			}
		}
	}
	scan(l.root, 0)
}

// isExampleKey names members whose values are data, not definition: a key
// named x-ms-notification-url inside an example is not a flag.
func isExampleKey(key string) bool {
	switch key {
	case "example", "examples", "default", "enum", "x-ms-test-value", "x-ms-enum-values":
		return true
	}
	return false
}

// isUnder reports whether n is within the subtree of ancestor.
func isUnder(n, ancestor *node) bool {
	if ancestor == nil {
		return false
	}
	for c := n; c != nil; c = c.parent {
		if c == ancestor {
			return true
		}
	}
	return false
}

// callbackRules checks one notification-URL property: a string, internal
// (itself or a parent), required at every level
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger, validator "Webhooks" rules).
func (l *linter) callbackRules(o *operation, cb callback) {
	// A missing type is any type, and the platform puts a string there;
	// only another declared type is wrong (certified Eigen has none).
	if typ := cb.prop.get("type"); typ != nil && typ.text() != "string" {
		l.reportMissing(ruleNotificationURLNotString, cb.prop, "type",
			"The notification URL property must be of type string.")
	}
	internal := isInternal(cb.prop) || isInternal(cb.body.n)
	for _, st := range cb.chain {
		internal = internal || isInternal(st.parent) || isInternal(st.decl)
	}
	if !internal {
		l.reportMissing(ruleNotificationURLNotInternal, cb.prop, "x-ms-visibility",
			"The notification URL property itself or at least one of its parents must be internal.")
	}
	if !cb.body.n.get("required").isTrue() {
		l.reportMissing(ruleNotificationURLNotRequired, cb.body.n, "required",
			"The notification URL property must be required all the way through the schema chain. (Body parameter '%s' is not required.)",
			cb.body.name)
	}
	for _, st := range cb.chain {
		if st.name != "" && !slices.Contains(requiredNames(st.parent), st.name) {
			l.reportMissing(ruleNotificationURLNotRequired, st.parent, "required",
				"The notification URL property must be required all the way through the schema chain. ('%s' is not in this 'required' list.)",
				st.name)
		}
	}
}

// webhookOutputRules checks what the designer shows for a webhook trigger:
// an output schema, and the declared Location header of the registration.
func (l *linter) webhookOutputRules(o *operation) {
	codes, resps := l.responses(o)
	nc := o.notificationContent()
	if !nc.get("schema").isObject() {
		withSchema := false
		for i, code := range codes {
			if (code == "200" || code == "201") && resps[i].get("schema").isObject() {
				withSchema = true
			}
		}
		if !withSchema {
			at := o.op
			if nc != nil {
				at = nc
			}
			l.reportMissing(ruleSchemaDefinitionSetIncorrectly, at, "schema",
				"The operation '%s' should define an output schema on the 200 or 201 response code or in 'x-ms-notification-content' extension for a webhook to be visible in the designer.",
				o.label())
		}
	}
	if !slices.Contains(codes, "201") {
		l.reportMissing(ruleWebhookRegistrationMissingCreatedResponse, o.op, "responses",
			"The registration of webhook trigger '%s' does not declare a 201 response. The platform expects 201 Created with a Location header naming the new subscription; declare it so the contract is visible (%s).",
			o.label(), "https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger")
	}
	var firstSuccess *node
	for i, code := range codes {
		if !isSuccessCode(code) {
			continue
		}
		if hasHeader(resps[i], "Location") {
			return
		}
		if firstSuccess == nil {
			firstSuccess = resps[i]
		}
	}
	if firstSuccess != nil {
		l.reportMissing(ruleWebhookRegistrationMissingLocationHeader, firstSuccess, "headers",
			"The registration response of webhook trigger '%s' does not declare the Location header that the platform later sends DELETE to (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). The platform reads the real header, so this only matters if the API does not send one; declare it to document the contract.",
			o.label())
	}
}

// webhookDeleteRules checks that the platform can unsubscribe a webhook
// trigger: it sends DELETE to the Location URL of the registration response,
// through the connector only if that URL matches a DELETE operation
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
// The Location value is up to the API, so the check pairs the trigger with
// the DELETE operation most likely to be its unsubscribe: the one the
// documented Location header names, else one whose path is the
// registration's or below it, or beside it and named for webhooks. It is
// per trigger: each trigger's own DELETE must be reachable and internal.
func (l *linter) webhookDeleteRules(t *operation, deletes []*operation) {
	location, locationHost := l.documentedLocationURL(t)
	if host := l.root.get("host").text(); locationHost != "" && host != "" && !strings.EqualFold(locationHost, host) &&
		!strings.ContainsAny(locationHost+host, "{}") && !l.hasPolicy("dynamichosturl") {
		l.report(ruleDeleteOperationDoesNotMatchLocation, t.op,
			"The registration of webhook trigger '%s' documents a Location on host %s, but the connector's host is %s: the platform routes a DELETE through the connector, with the connection's credentials, only when the Location URL is on the connector's host and path.",
			t.label(), locationHost, host)
	}
	var candidates []*operation
	for _, d := range deletes {
		if unsubscribeScore(t, d, location) >= minUnsubscribeScore {
			candidates = append(candidates, d)
		}
	}
	best := l.pairedDelete(t)
	if len(candidates) == 0 {
		others := ""
		if len(deletes) > 0 {
			names := make([]string, len(deletes))
			for i, d := range deletes {
				names[i] = d.label()
			}
			others = fmt.Sprintf(" (The DELETE operations %s are not on the registration's path, below it, or named for webhooks.)", strings.Join(names, ", "))
		}
		l.report(ruleWebhookTriggerMissingDeleteOperation, t.op,
			"The webhook trigger '%s' has no DELETE operation that unsubscribes it, so the platform cannot: webhooks will be created and never deleted. Add an internal DELETE operation whose path matches the Location header the registration returns, like /webhooks/{id}.%s",
			t.label(), others)
		return
	}
	if best == nil {
		names := make([]string, len(candidates))
		for i, d := range candidates {
			names[i] = d.label()
		}
		l.report(ruleDeleteOperationDoesNotMatchLocation, t.op,
			"No DELETE operation of webhook trigger '%s' (%s) can match a Location URL that names one subscription: a DELETE needs a path variable the registration path does not have (/webhooks/{id}) or a query parameter (?id=), and no required header or body, which a URL cannot carry. The platform sends DELETE to the Location URL and nothing else; without a match the webhook is never deleted, and a DELETE of the whole collection would delete other flows' subscriptions.",
			t.label(), strings.Join(names, ", "))
		return
	}
	if !best.internal() {
		l.reportMissing(ruleDeleteOperationNotInternal, best.op, "x-ms-visibility",
			`The DELETE operation '%s', which unsubscribes webhook trigger '%s', is not internal, so makers see it as an action. Add "x-ms-visibility": "internal".`,
			best.label(), t.label())
	}
}

// pairedDelete is the DELETE operation webhookDeleteRules pairs with
// trigger t, or nil.
func (l *linter) pairedDelete(t *operation) *operation {
	location := l.documentedLocation(t)
	var best *operation
	bestScore := 0
	for _, d := range l.ops {
		if d.method != "delete" {
			continue
		}
		if s := unsubscribeScore(t, d, location); s >= minUnsubscribeScore && reachableFromURL(d) && namesOne(t, d) && s > bestScore {
			best, bestScore = d, s
		}
	}
	return best
}

// minUnsubscribeScore is the least unsubscribeScore of a DELETE that may be
// a trigger's unsubscribe operation: a sibling path alone is not enough
// (Airmeet's "Remove attendee" beside its webhooks), a sibling named for
// webhooks is.
const minUnsubscribeScore = 4

// unsubscribeScore rates how likely DELETE d unsubscribes trigger t:
// matching the documented Location wins; then the registration's own path
// (DELETE /webhooks?id=), a path below it (/webhooks/{id}), and words like
// "webhook" or "subscription" in d's path, operationId or summary.
func unsubscribeScore(t, d *operation, location string) int {
	score := 0
	if location != "" && templatesMatch(location, d.template) {
		score += 10
	}
	tp := strings.TrimSuffix(t.template, "/")
	switch {
	case strings.EqualFold(d.template, t.template):
		score += 6
	case strings.HasPrefix(strings.ToLower(d.template), strings.ToLower(tp)+"/"):
		score += 5
	case strings.EqualFold(parentPath(d.template), parentPath(t.template)):
		score++
	}
	if hookWords.MatchString(d.template + " " + d.id() + " " + d.op.get("summary").text()) {
		score += 4
	}
	return score
}

// hookWords are what unsubscribe operations are named for.
var hookWords = regexp.MustCompile(`(?i)hook|subscri|notif|callback|listener|trigger`)

// reachableFromURL reports whether a Location URL can carry everything d
// needs: path variables and query parameters can, and a header with a
// default the connector fills in (Telstra's api-version); a required
// header, body or form parameter without one cannot (WorkPoint's
// WorkPoint365Url).
func reachableFromURL(d *operation) bool {
	for _, p := range d.params {
		switch p.in {
		case "path", "query":
		default:
			if p.n.get("required").isTrue() && !(p.in == "header" && p.n.has("default")) {
				return false
			}
		}
	}
	return true
}

// namesOne reports whether DELETE d can name one subscription of trigger
// t in its URL: a path variable the registration's path does not have, or
// a query parameter, required or not (Aletheia's and Desk365's ?id= are
// optional and work).
func namesOne(t, d *operation) bool {
	triggerVars := t.pathVariables()
	for _, v := range d.pathVariables() {
		if !slices.Contains(triggerVars, v) {
			return true
		}
	}
	for _, p := range d.params {
		if p.in == "query" {
			return true
		}
	}
	return false
}

// documentedLocation returns the path template a registration documents
// for its Location header (in its description, x-ms-summary, default or
// example), without scheme, host and basePath, or "".
func (l *linter) documentedLocation(t *operation) string {
	p, _ := l.documentedLocationURL(t)
	return p
}

// documentedLocationURL is documentedLocation and the host the documented
// URL names ("" for a bare path).
func (l *linter) documentedLocationURL(t *operation) (path, host string) {
	codes, resps := l.responses(t)
	base := strings.TrimSuffix(l.root.get("basePath").text(), "/")
	for i, code := range codes {
		if !isSuccessCode(code) {
			continue
		}
		for _, name := range resps[i].get("headers").memberNames() {
			if !strings.EqualFold(name, "Location") {
				continue
			}
			h := resps[i].get("headers").get(name)
			for _, key := range []string{"default", "example", "x-example", "x-ms-summary", "description"} {
				// A sentence may end right after the URL.
				m := strings.TrimRight(locationPattern.FindString(h.get(key).text()), ".,;:)")
				if m == "" {
					continue
				}
				if u, err := url.Parse(m); err == nil && strings.HasPrefix(u.Path, "/") {
					if base != "" && strings.HasPrefix(u.Path, base+"/") {
						return strings.TrimPrefix(u.Path, base), u.Host
					}
					return u.Path, u.Host
				}
			}
		}
	}
	return "", ""
}

// locationPattern finds a URL or an absolute path (with {variables}) in a
// header's documentation.
var locationPattern = regexp.MustCompile(`https?://[^\s"'<>]+|/[A-Za-z0-9_.~{}\-]+(?:/[A-Za-z0-9_.~{}\-]*)*`)

// templatesMatch reports whether a documented Location path and a path
// template name the same resource: segment by segment, equal without regard
// to case, where a {variable} on either side matches anything.
func templatesMatch(location, template string) bool {
	a := strings.Split(strings.Trim(location, "/"), "/")
	b := strings.Split(strings.Trim(template, "/"), "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if isVariable(a[i]) || isVariable(b[i]) {
			continue
		}
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func isVariable(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// pollingRules checks a polling trigger whose API keeps the state (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app):
// its 200 and 202 responses must carry Location (the next URL to poll, with
// the state in it) and Retry-After. When the platform keeps the state — a
// parameter with x-ms-trigger-value, or a pollingtrigger policy in
// apiProperties.json (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions) — these headers play no part.
func (l *linter) pollingRules(o *operation) {
	for _, p := range o.params {
		if p.n.has("x-ms-trigger-value") {
			return
		}
	}
	if l.pollingPolicyCovers(o) {
		return
	}
	codes, resps := l.responses(o)
	for i, code := range codes {
		if code != "200" && code != "202" {
			continue
		}
		var missing []string
		for _, h := range []string{"Location", "Retry-After"} {
			if !hasHeader(resps[i], h) {
				missing = append(missing, h)
			}
		}
		if len(missing) == 0 {
			continue
		}
		hint := ""
		if l.props == nil {
			hint = " If a pollingtrigger policy in apiProperties.json keeps the state instead, lint with the properties file."
		}
		l.reportMissing(rulePollingTriggerMissingLocationOrRetryAfter, resps[i], "headers",
			"The %s response of polling trigger '%s' does not declare %s. When the API keeps the polling state, it answers 200 and 202 with Location (the URL to poll next, carrying the state) and Retry-After (seconds); without Location the platform polls the same URL again (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).%s",
			code, o.label(), strings.Join(missing, " and "), hint)
	}
}

// looksLikeTrigger reports whether an operation without x-ms-trigger reads
// as a trigger: a summary in the designer's "When …" form or a trigger
// hint. A notification URL alone does not make one: "send and wait for a
// response" actions (AtBot, Signi) register a callback too, and work.
func looksLikeTrigger(o *operation) bool {
	return strings.HasPrefix(o.op.get("summary").text(), "When ") || o.op.has("x-ms-trigger-hint")
}

// parentPath is a path template without its last segment.
func parentPath(p string) string {
	p = strings.TrimSuffix(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
