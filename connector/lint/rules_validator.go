package lint

import (
	"mime"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/triggerd/triggerd/internal/platform"
)

// The rules of this file are further rules of the validator's catalogue
// (https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules)
// that can be checked offline. The catalogue names them and, for some, quotes
// the message; where it does not, the message here is triggerd's own.

// More rule names, spelled as in the validator's catalogue (including its
// typos: "Paramters", "Suppored").
const (
	ruleNotificationExtensionNotSupportedInWebhook = "NotificationExtensionNotSupportedInWebhookOperation"
	ruleNotificationExtensionForTriggerOnly        = "NotificationExtensionSupportedForTriggerOnly"
	ruleNotificationOperationMustBeWebhook         = "NotificationOperationMustBeWebhook"
	ruleParametersWithSameNameSameType             = "ParamtersWithSameNameMustHaveSameTypeAndVisibility"

	ruleOperationIDTooLong                   = "OperationIdTooLong"
	ruleOperationIDShouldEndWithRevision     = "OperationIdShouldEndWithRevision"
	ruleOperationHasManyResponsesWithSchema  = "OperationHasManyResponsesWithSchema"
	ruleConsumesMissing                      = "ConsumesMissing"
	ruleDuplicateOperationPath               = "DuplicateOperationPath"
	rulePartialDuplicateOperationPath        = "PartialDuplicateOperationPath"
	rulePathRedefined                        = "PathRedefined"
	ruleOperationPathMayNotContainQuery      = "OperationPathMayNotContainQueryOrFragment"
	ruleOperationPathMustStartWithSlash      = "OperationPathMustStartWithSlash"
	ruleOperationPathTemplateNotValid        = "OperationPathTemplateNotValid"
	ruleDynamicExtensionNotAllowedInParam    = "DynamicExtensionDefinitionNotAllowedInParameter"
	ruleInvalidNextLinkNameValue             = "InvalidNextLinkNameValue"
	ruleBodyParameterSchemaRequired          = "BodyParameterSchemaRequired"
	ruleResponseMustBeDefaultOrHTTPStatus    = "ResponseMustBeDefaultOrHttpStatusCode"
	ruleSchemaRefLoopNotAllowed              = "SchemaRefLoopNotAllowed"
	ruleSchemaTooDeep                        = "SchemaTooDeep"
	ruleSchemaTypeFileNotValid               = "SchemaTypeFileNotValid"
	ruleTotalSchemaCountExceedsMaxAllowed    = "TotalSchemaCountExceedsMaxAllowed"
	ruleResponseHeadersAreNotUnique          = "ResponseHeadersAreNotUnique"
	ruleSecurityRequirementMustHaveEmpty     = "SecurityRequirementMustHaveEmptyValue"
	ruleSecurityRequirementMustHaveValue     = "SecurityRequirementMustHaveValue"
	ruleOAuthRequirementValueMustBeScopeName = "OAuthSecurityRequirementValueMustBeScopeName"
	ruleAdditionalPropertyAdjacentToRef      = "AdditionalPropertyNotAllowedAdjacentToRef"
	ruleContactEmailNotValid                 = "ContactEmailNotValid"
	ruleConnectorMetadataPropertiesMissing   = "ConnectorMetadataPropertiesMissing"
	ruleInvalidConnectorCategory             = "InvalidConnectorCategory"
	ruleTooManyConnectorCategories           = "TooManyConnectorCategories"
	ruleExtensionNameNotValid                = "ExtensionNameNotValid"
	ruleMimeTypeNotValid                     = "MimeTypeNotValid"
	ruleMimeTypeNotSupported                 = "MimeTypeNotSupported"
	ruleRequiredPropertyDefinitionMissing    = "RequiredPropertyDefinitionMissing"
	ruleRequiredPropertyNotOnObject          = "RequiredPropertyNotOnObject"
	ruleRequiredPropertyArrayEmpty           = "RequiredPropertyArrayEmpty"
	ruleURLNotValid                          = "UrlNotValid"
	ruleFieldLengthExceeded                  = "FieldLengthExceeded"
	ruleFieldLengthNotInRange                = "FieldLengthNotInRange"
	ruleValueContainsRestrictedWords         = "ValueContainsRestrictedWords"
	ruleValueMustBeInEnglish                 = "ValueMustBeInEnglish"
	ruleValueMustEndWithAlphanumeric         = "ValueMustEndWithAlphanumeric"
	ruleFileParameterMustBeInFormData        = "FileParameterMustBeInFormData"
	ruleParameterListFormDataAndBody         = "ParameterListContainsFormDataAndBody"
	ruleQueryParameterEncodingNotSupported   = "QueryParameterEncodingNotSupported"
	ruleCollectionFormatValueNotSupported    = "CollectionFormatValueNotSupported"
	rulePathItemRefNotSupported              = "PathItemRefNotSuppored"
	ruleSwaggerKeywordNotSupported           = "SwaggerKeywordNotSupported"
)

// certifiedShip is the reason most of these rules are warnings: certified
// connectors of the public repository have the finding, so the validator
// accepts it.
const certifiedShip = " A warning: certified connectors ship it, so the validator accepts it."

var validatorCatalogue = []Rule{
	// Webhooks.
	{ruleNotificationExtensionNotSupportedInWebhook, SeverityError, originValidator,
		`A webhook trigger must not carry x-ms-notification, which points a polling trigger at its webhook twin.`},
	{ruleNotificationExtensionForTriggerOnly, SeverityError, originValidator,
		`x-ms-notification belongs on trigger operations only.`},
	{ruleNotificationOperationMustBeWebhook, SeverityError, originValidator,
		`x-ms-notification.operationId must name a webhook trigger of the definition.`},
	{ruleParametersWithSameNameSameType, SeverityError, originValidator,
		`A fetch (polling) trigger and the webhook trigger its x-ms-notification names must give same-named parameters the same type and visibility: the platform passes the maker's values from one to the other.`},

	// Operations.
	{ruleOperationIDTooLong, SeverityError, originValidator,
		`An operationId must be at most 80 characters (see platform.OperationIDMaxLen for the source of the bound); the longest certified one has 69.`},
	{ruleOperationIDShouldEndWithRevision, SeverityInfo, originValidator,
		`An operation with x-ms-api-annotation revision N > 1 should have an operationId ending in VN (GetItems_V2), so flows can tell versions apart. Advice: 37 of 89 certified revised operations do not.`},
	{ruleOperationHasManyResponsesWithSchema, SeverityWarning, originValidator,
		`Only one response schema is used by the designer; an operation with several 2xx responses carrying schemas shows the outputs of one of them. A warning: the others' outputs are silently missing.`},
	{ruleConsumesMissing, SeverityInfo, originValidator,
		`An operation with a body or form data should say in "consumes" (its own or the definition's) what it sends. Advice: the platform defaults to application/json, and 505 certified operations rely on it.`},
	{rulePathRedefined, SeverityError, originValidator,
		`Two paths may not differ only in letter case: the platform matches paths without regard to case.`},
	{ruleDuplicateOperationPath, SeverityError, originValidator,
		`Two paths may not be the same template with differently named variables (/items/{id} and /items/{itemId}) and the same method: a request matches both.`},
	{rulePartialDuplicateOperationPath, SeverityInfo, originValidator,
		`Two paths are the same template with differently named variables (/items/{id}, /items/{itemId}), on different methods. Advice: the method tells the requests apart, but one template with one variable name is clearer (3 corpus connectors).`},
	{ruleOperationPathMayNotContainQuery, SeverityError, originValidator,
		`A path may not contain a query ("?") or fragment ("#"); declare query parameters instead.`},
	{ruleOperationPathMustStartWithSlash, SeverityError, originValidator,
		`A path must start with "/".`},
	{ruleOperationPathTemplateNotValid, SeverityError, originValidator,
		`A path's braces must pair around non-empty variable names that do not span a "/".`},
	{ruleDynamicExtensionNotAllowedInParam, SeverityError, originValidator,
		`x-ms-dynamic-* extensions are not allowed on the body parameter; they belong in its schema.`},
	{ruleInvalidNextLinkNameValue, SeverityWarning, originValidator,
		`x-ms-pageable.nextLinkName must be "nextLink" or "@odata.nextLink"; with another name the platform does not follow pages.` + certifiedShip + ` (3 use "nextlink".)`},

	// Responses and schemas.
	{ruleBodyParameterSchemaRequired, SeverityError, originValidator,
		`A body parameter needs a "schema".`},
	{ruleResponseMustBeDefaultOrHTTPStatus, SeverityError, originValidator,
		`A response key must be "default" or an HTTP status code from 100 to 599; Swagger 2.0 has no ranges like "2XX".`},
	{ruleSchemaRefLoopNotAllowed, SeverityError, originValidator,
		`A schema's $ref chain must not lead back to itself ("A": {"$ref": "#/definitions/A"}): it names no schema at all.`},
	{ruleSchemaTooDeep, SeverityWarning, originValidator,
		`A schema nests more than 32 levels of objects and arrays below an operation; the designer cannot show it. The validator's bound is not published; 32 is twice the deepest certified schema.`},
	{ruleSchemaTypeFileNotValid, SeverityError, originValidator,
		`"type": "file" is only valid for a response schema or a formData parameter.`},
	{ruleTotalSchemaCountExceedsMaxAllowed, SeverityError, originValidator,
		`A body may have at most 512 schemas (connector FAQ, https://learn.microsoft.com/connectors/custom-connectors/faq).`},
	{ruleResponseHeadersAreNotUnique, SeverityError, originValidator,
		`A response may not declare two headers whose names differ only in case: HTTP header names are case-insensitive.`},

	// Security.
	{ruleSecurityRequirementMustHaveEmpty, SeverityError, originValidator,
		`A security requirement for a basic or apiKey scheme must be an empty array: only OAuth 2.0 has scopes.`},
	{ruleSecurityRequirementMustHaveValue, SeverityError, originValidator,
		`A security requirement's value must be an array. Provide an empty array if no OAuth scopes are required.`},
	{ruleOAuthRequirementValueMustBeScopeName, SeverityInfo, originValidator,
		`The scopes of an OAuth 2.0 security requirement should be keys of its scheme's "scopes". Advice: the scopes a connection asks for come from apiProperties.json's oAuthSettings, so the definition's are documentation (4 corpus connectors).`},

	// Properties and metadata.
	{ruleAdditionalPropertyAdjacentToRef, SeverityInfo, originValidator,
		`When "$ref" is defined, no other properties may be specified: JSON Reference ignores them, so a description beside a $ref may not show. Advice: 21 certified connectors have them (408 findings) and are accepted.`},
	{ruleContactEmailNotValid, SeverityError, originValidator,
		`info.contact.email must be an email address.`},
	{ruleConnectorMetadataPropertiesMissing, SeverityInfo, originValidator,
		`A connector needs x-ms-connector-metadata with Website, Privacy policy and Categories to be certified; certification validation refuses a submission without it (https://github.com/microsoft/PowerPlatformConnectors/pull/1095). Advice here: the file works without it, and 30 certified connectors predate the rule.`},
	{ruleInvalidConnectorCategory, SeverityError, originValidator,
		`Each category in x-ms-connector-metadata must be one the platform lists (https://learn.microsoft.com/connectors/custom-connectors/certification-submission).`},
	{ruleTooManyConnectorCategories, SeverityError, originValidator,
		`x-ms-connector-metadata may list at most two categories.`},
	{ruleExtensionNameNotValid, SeverityWarning, originValidator,
		`A key that looks like a Microsoft extension ("x-ms…", "X-MS-…") must be spelled as one; a misspelt extension is silently ignored.`},
	{ruleMimeTypeNotValid, SeverityError, originValidator,
		`Each entry of "consumes" and "produces" must be a MIME type (type/subtype).`},
	{ruleMimeTypeNotSupported, SeverityInfo, originValidator,
		`The platform supports application/json, text/plain, multipart/form-data and application/x-www-form-urlencoded. Advice: certified connectors declare others (application/xml, application/octet-stream) and work.`},
	{ruleRequiredPropertyDefinitionMissing, SeverityWarning, originValidator,
		`Every name in a schema's "required" should be one of its "properties"; otherwise the designer asks for a field it cannot show.`},
	{ruleRequiredPropertyNotOnObject, SeverityWarning, originValidator,
		`"required" lists properties, so it only means something on an object schema; on a string or array it is ignored (the author meant the parameter's "required": true).` + certifiedShip},
	{ruleRequiredPropertyArrayEmpty, SeverityWarning, originValidator,
		`"required" must list at least one property (draft-04); leave it out instead.`},
	{ruleURLNotValid, SeverityWarning, originValidator,
		`URLs in info and x-ms-connector-metadata (contact, terms of service, website, privacy policy) must be absolute http or https URLs; the designer links to them.` + certifiedShip},
	{ruleFieldLengthExceeded, SeverityInfo, originValidator,
		`info.title should be at most 30 characters (certification submission guide). Advice: the file is accepted.`},
	{ruleFieldLengthNotInRange, SeverityInfo, originValidator,
		`info.description should be 30 to 500 characters (certification submission guide). Advice: the file is accepted.`},
	{ruleValueContainsRestrictedWords, SeverityInfo, originValidator,
		`info.title should not contain the words "API" or "Connector" (certification submission guide). Advice.`},
	{ruleValueMustBeInEnglish, SeverityInfo, originValidator,
		`Titles, summaries and descriptions should be in English (certification submission guide); text that is mostly non-Latin letters is reported. Advice.`},
	{ruleValueMustEndWithAlphanumeric, SeverityInfo, originValidator,
		`info.title should end with a letter, a digit or ")" (certification submission guide: alphanumerics and parentheses). Advice.`},

	// Parameters.
	{ruleFileParameterMustBeInFormData, SeverityError, originValidator,
		`A parameter of type "file" must be "in": "formData" (Swagger 2.0).`},
	{ruleParameterListFormDataAndBody, SeverityError, originValidator,
		`An operation may not have both a body and formData parameters (Swagger 2.0: they are mutually exclusive).`},
	{ruleQueryParameterEncodingNotSupported, SeverityError, originValidator,
		`A query parameter's x-ms-url-encoding can only be "single"; "double" is for path parameters.`},

	// Not supported.
	{ruleCollectionFormatValueNotSupported, SeverityError, originValidator,
		`The platform supports collectionFormat "csv" only; "multi", "ssv", "tsv" and "pipes" are not sent as written. Every certified connector that sets it uses csv.`},
	{rulePathItemRefNotSupported, SeverityError, originValidator,
		`A path item may not be a "$ref".`},
	{ruleSwaggerKeywordNotSupported, SeverityInfo, originValidator,
		`"discriminator" and "xml" are Swagger keywords the platform ignores: polymorphism and XML bodies are not supported. Advice.`},
}

// validatorRules applies the rules of this file.
func (l *linter) validatorRules() {
	l.pathRules()
	l.notificationExtensionRules()
	l.metadataRules()
	l.mimeRules(l.root)
	l.securityValueRules()
	l.eachSchema(l.schemaShapeRules)
	for _, o := range l.ops {
		l.operationExtraRules(o)
	}
	l.extensionNameRules(l.root, 0)
}

// pathRules checks the keys of "paths" and their path items.
func (l *linter) pathRules() {
	paths := l.root.get("paths")
	byLower := make(map[string]string)
	type shape struct {
		template string
		methods  []string
	}
	byShape := make(map[string]shape)
	paths.members(func(template string, item *node) {
		key := childPath(paths.path(), template)
		if rule, problem := platform.PathProblem(template); rule != "" {
			l.reportAt(rule, item, key, "The path '%s' %s.", template, problem)
		}
		if item.has("$ref") {
			l.report(rulePathItemRefNotSupported, item.get("$ref"),
				"The path item of '%s' is a $ref, which the platform does not support; write the operations inline.", template)
		}
		lower := strings.ToLower(template)
		if first, dup := byLower[lower]; dup {
			l.reportAt(rulePathRedefined, item, key, "The path '%s' is also defined as '%s'; paths are matched without regard to case.", template, first)
			return
		}
		byLower[lower] = template
		var methods []string
		item.members(func(m string, _ *node) {
			if isHTTPMethod(m) {
				methods = append(methods, m)
			}
		})
		norm := templateVariablePattern.ReplaceAllString(lower, "{}")
		if first, dup := byShape[norm]; dup {
			shared := ""
			for _, m := range methods {
				if slices.Contains(first.methods, m) {
					shared = m
				}
			}
			if shared != "" {
				l.reportAt(ruleDuplicateOperationPath, item, key,
					"The path '%s' is the same template as '%s' and both define %s: a request matches both.", template, first.template, strings.ToUpper(shared))
			} else {
				l.reportAt(rulePartialDuplicateOperationPath, item, key,
					"The path '%s' is the same template as '%s', with other variable names.", template, first.template)
			}
			return
		}
		byShape[norm] = shape{template, methods}
	})
}

var templateVariablePattern = regexp.MustCompile(`\{[^{}]*\}`)

// notificationExtensionRules checks x-ms-notification, which points a
// polling trigger at the webhook trigger of the same events.
func (l *linter) notificationExtensionRules() {
	callbacks, _ := l.findCallbacks()
	byID := make(map[string]*operation)
	for _, o := range l.ops {
		if id := o.id(); id != "" {
			byID[id] = o
		}
	}
	for _, o := range l.ops {
		ext := o.op.get("x-ms-notification")
		if ext == nil {
			continue
		}
		switch {
		case !o.isTrigger():
			l.report(ruleNotificationExtensionForTriggerOnly, ext,
				"The 'x-ms-notification' is supported for trigger operations only. (Operation '%s' has no x-ms-trigger.)", o.label())
			continue
		case l.isWebhookTrigger(o, callbacks[o]):
			l.report(ruleNotificationExtensionNotSupportedInWebhook, ext,
				"The 'x-ms-notification' extension must not be defined in a webhook operation. (Operation '%s'.)", o.label())
			continue
		}
		target := byID[ext.get("operationId").text()]
		if target == nil || !l.isWebhookTrigger(target, callbacks[target]) {
			l.reportMissing(ruleNotificationOperationMustBeWebhook, ext, "operationId",
				"The 'operationId' property in 'x-ms-notification' extension must be for a webhook operation. ('%s' is not a webhook trigger of this definition.)",
				ext.get("operationId").text())
			continue
		}
		for _, p := range o.params {
			for _, q := range target.params {
				if q.name != p.name || q.in == "body" || p.in == "body" {
					continue
				}
				if p.n.get("type").text() != q.n.get("type").text() || p.n.get("x-ms-visibility").text() != q.n.get("x-ms-visibility").text() {
					l.report(ruleParametersWithSameNameSameType, p.n,
						"Parameters of the same name in fetch and subscribe operations must be of the same type and visibility. ('%s' is %s%s here and %s%s in '%s'.)",
						p.name, p.n.get("type").text(), visibilityNote(p.n), q.n.get("type").text(), visibilityNote(q.n), target.label())
				}
			}
		}
	}
}

func visibilityNote(n *node) string {
	if v := n.get("x-ms-visibility").text(); v != "" {
		return ", " + v
	}
	return ""
}

// metadataRules checks info and x-ms-connector-metadata.
func (l *linter) metadataRules() {
	info := l.root.get("info")
	contact := info.get("contact")
	if email := contact.get("email"); email != nil {
		if a, err := mail.ParseAddress(email.text()); err != nil || a.Address != email.text() || a.Name != "" {
			l.report(ruleContactEmailNotValid, email, "The contact email '%s' is not a valid email address.", email.text())
		}
	}
	l.checkURL(contact.get("url"))
	l.checkURL(info.get("termsOfService"))
	if title := info.get("title"); title.isString() {
		if n := utf8.RuneCountInString(title.str); n > platform.TitleMaxLen {
			l.report(ruleFieldLengthExceeded, title, "The title has %d characters; certification allows at most %d.", n, platform.TitleMaxLen)
		}
		if restrictedTitleWords.MatchString(title.str) {
			l.report(ruleValueContainsRestrictedWords, title, "The title '%s' contains a restricted word (API, Connector).", title.str)
		}
		if r, _ := utf8.DecodeLastRuneInString(title.str); title.str != "" && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ')' {
			l.report(ruleValueMustEndWithAlphanumeric, title, "The title '%s' must end with a letter or digit.", title.str)
		}
		l.checkEnglish(title)
	}
	if desc := info.get("description"); desc.isString() {
		if n := utf8.RuneCountInString(desc.str); n < platform.DescriptionMinLen || n > platform.DescriptionMaxLen {
			l.report(ruleFieldLengthNotInRange, desc, "The description has %d characters; certification requires %d to %d.", n, platform.DescriptionMinLen, platform.DescriptionMaxLen)
		}
		l.checkEnglish(desc)
	}
	meta := l.root.get("x-ms-connector-metadata")
	if meta == nil {
		l.reportMissing(ruleConnectorMetadataPropertiesMissing, l.root, "x-ms-connector-metadata",
			"The 'x-ms-connector-metadata' property is required. (List Website, Privacy policy and Categories.)")
		return
	}
	for _, entry := range meta.elems() {
		value := entry.get("propertyValue")
		switch entry.get("propertyName").text() {
		case "Website", "Privacy policy":
			l.checkURL(value)
		case "Categories":
			cats := strings.Split(value.text(), ";")
			if len(cats) > platform.MaxCategories {
				l.report(ruleTooManyConnectorCategories, value, "The connector lists %d categories; at most %d are allowed.", len(cats), platform.MaxCategories)
			}
			for _, c := range cats {
				if c = strings.TrimSpace(c); !platform.ValidCategory(c) {
					l.report(ruleInvalidConnectorCategory, value, "'%s' is not a connector category; use one of %s.", c, strings.Join(platform.Categories(), ", "))
				}
			}
		}
	}
}

var restrictedTitleWords = regexp.MustCompile(`(?i)\b(api|connector)\b`)

func (l *linter) checkURL(v *node) {
	if v == nil {
		return
	}
	// Surrounding spaces are trimmed by the designer (certified
	// Cornerstone's website ends with one).
	text := strings.TrimSpace(v.text())
	u, err := url.Parse(text)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(text, " \t") {
		l.report(ruleURLNotValid, v, "'%s' is not an absolute http or https URL.", v.text())
	}
}

// checkEnglish reports text that is mostly letters outside the Latin
// script: a rough test, but no English text is.
func (l *linter) checkEnglish(v *node) {
	latin, other := 0, 0
	for _, r := range v.text() {
		switch {
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.IsLetter(r):
			other++
		}
	}
	if other > latin {
		l.report(ruleValueMustBeInEnglish, v, "The text is mostly not in the Latin script; certification requires English.")
	}
}

// supportedMimeTypes are the MIME types the platform supports in
// consumes and produces.
var supportedMimeTypes = []string{"application/json", "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"}

// reportedMimeTypes bounds MimeTypeNotSupported to one finding per MIME
// type and definition: the same list is usually repeated on every operation.

func (l *linter) mimeRules(holder *node) {
	if l.mimeSeen == nil {
		l.mimeSeen = make(map[string]bool)
	}
	for _, key := range []string{"consumes", "produces"} {
		for _, e := range holder.get(key).elems() {
			mt, _, err := mime.ParseMediaType(e.text())
			switch {
			case err != nil || !strings.Contains(mt, "/"):
				l.report(ruleMimeTypeNotValid, e, "'%s' is not a valid MIME type.", e.text())
			case !slices.Contains(supportedMimeTypes, mt) && !l.mimeSeen[mt]:
				l.mimeSeen[mt] = true
				l.report(ruleMimeTypeNotSupported, e, "The MIME type '%s' is not supported; the platform supports %s.", mt, strings.Join(supportedMimeTypes, ", "))
			}
		}
	}
}

// securityValueRules checks the values of security requirements.
func (l *linter) securityValueRules() {
	defs := l.root.get("securityDefinitions")
	check := func(security *node) {
		for _, req := range security.elems() {
			req.members(func(name string, v *node) {
				def := defs.get(name)
				if !v.isArray() {
					l.report(ruleSecurityRequirementMustHaveValue, v,
						"The security requirement '%s' must have an array value. Provide an empty array if no OAuth scopes are required.", name)
					return
				}
				switch def.get("type").text() {
				case "basic", "apiKey":
					if len(v.items) > 0 {
						l.report(ruleSecurityRequirementMustHaveEmpty, v,
							"The security requirement '%s' is of type '%s' and must have an empty array value.", name, def.get("type").text())
					}
				case "oauth2":
					for _, s := range v.items {
						if !def.get("scopes").has(s.text()) {
							l.report(ruleOAuthRequirementValueMustBeScopeName, s,
								"'%s' is not a scope of the OAuth 2.0 scheme '%s'; declare it in its 'scopes'.", s.text(), name)
						}
					}
				}
			})
		}
	}
	check(l.root.get("security"))
	for _, o := range l.ops {
		check(o.op.get("security"))
	}
}

// schemaShapeRules checks one schema as written.
func (l *linter) schemaShapeRules(s *node) {
	if ref := s.get("$ref"); ref.isString() {
		for _, k := range s.keys {
			if k != "$ref" && !strings.HasPrefix(k, "x-") {
				l.report(ruleAdditionalPropertyAdjacentToRef, s.get(k),
					"When '$ref' is defined, no other properties may be specified. ('%s' is ignored.)", k)
			}
		}
		if l.refLoops(s) {
			l.report(ruleSchemaRefLoopNotAllowed, ref, "The schema reference '%s' leads back to itself.", ref.str)
		}
	}
	req := s.get("required")
	if req.isArray() {
		switch typ := s.get("type").text(); {
		case typ != "" && typ != "object":
			l.report(ruleRequiredPropertyNotOnObject, req,
				"'required' lists properties, but this schema is of type '%s'. (For a required parameter, set 'required': true on the parameter.)", typ)
		case len(req.items) == 0:
			l.report(ruleRequiredPropertyArrayEmpty, req, "The 'required' array is empty; leave it out.")
		case s.get("properties").isObject() && s.get("allOf") == nil:
			for _, name := range req.items {
				if !s.get("properties").has(name.text()) {
					l.report(ruleRequiredPropertyDefinitionMissing, name,
						"The required property '%s' is not defined in 'properties'.", name.text())
				}
			}
		}
	}
	for _, k := range []string{"discriminator", "xml"} {
		if v := s.get(k); v != nil {
			l.report(ruleSwaggerKeywordNotSupported, v, "The Swagger keyword '%s' is not supported by the platform and is ignored.", k)
		}
	}
	if s.get("type").text() == "file" && !l.fileSchemaAllowed(s) {
		l.report(ruleSchemaTypeFileNotValid, s.get("type"), "'type': 'file' is only valid for a response schema.")
	}
}

// fileSchemaAllowed reports whether a type-file schema is the top of a
// response schema (or a definition, which a response may reference).
func (l *linter) fileSchemaAllowed(s *node) bool {
	p := s.parent
	if p == nil || s.key != "schema" {
		return s.parent != nil && s.parent.parent == l.root && s.parent.key == "definitions"
	}
	// $.paths[..][method].responses[code].schema or $.responses[name].schema
	return p.parent != nil && p.parent.key == "responses"
}

// refLoops reports whether following s's $ref chain comes back to a
// schema already passed.
func (l *linter) refLoops(s *node) bool {
	seen := map[*node]bool{s: true}
	cur := s
	for range maxRefHops {
		ref := cur.get("$ref")
		if !ref.isString() {
			return false
		}
		next := l.pointer(ref.str)
		if next == nil {
			return false
		}
		if seen[next] {
			return true
		}
		seen[next] = true
		cur = next
	}
	return true
}

// Limits of one body.
const (
	maxSchemasPerBody = 512 // connector FAQ
	maxSchemaNesting  = 32
)

// operationExtraRules applies the per-operation rules of this file.
func (l *linter) operationExtraRules(o *operation) {
	idNode := o.op.get("operationId")
	if id := o.id(); len(id) > platform.OperationIDMaxLen {
		l.report(ruleOperationIDTooLong, idNode, "The operationId must be less than '%d' characters. (It has %d.)", platform.OperationIDMaxLen+1, len(id))
	}
	if rev := o.op.get("x-ms-api-annotation").get("revision"); rev != nil && rev.kind == kindNumber {
		if n, err := strconv.Atoi(rev.str); err == nil && n > 1 && o.id() != "" && !strings.HasSuffix(o.id(), "V"+rev.str) {
			l.report(ruleOperationIDShouldEndWithRevision, idNode, "The operationId '%s' should end with 'V%d', its revision.", o.id(), n)
		}
	}
	l.mimeRules(o.op)

	codes, resps := l.responses(o)
	withSchema := 0
	for i, code := range codes {
		if code != "default" {
			if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
				l.report(ruleResponseMustBeDefaultOrHTTPStatus, o.op.get("responses").get(code),
					"The response '%s' must be 'default' or an HTTP status code.", code)
			}
		}
		if isSuccessCode(code) && resps[i].get("schema").isObject() && len(resps[i].get("schema").keys) > 0 {
			withSchema++
			if withSchema == 2 {
				l.report(ruleOperationHasManyResponsesWithSchema, o.op.get("responses"),
					"The operation '%s' has many responses with schema definitions, only one schema will be used in the designer.", o.label())
			}
		}
		seen := make(map[string]string)
		resps[i].get("headers").members(func(h string, hv *node) {
			if first, dup := seen[strings.ToLower(h)]; dup {
				l.report(ruleResponseHeadersAreNotUnique, hv, "The header '%s' is also declared as '%s' in this response.", h, first)
			}
			seen[strings.ToLower(h)] = h
		})
		l.nestingRules(resps[i].get("schema"))
	}

	var body, form bool
	for _, p := range o.params {
		switch p.in {
		case "body":
			body = true
			if !p.n.has("schema") {
				l.reportMissing(ruleBodyParameterSchemaRequired, p.n, "schema", "The body parameter '%s' must have a 'schema'.", p.name)
			}
			for _, k := range p.n.keys {
				if strings.HasPrefix(k, "x-ms-dynamic-") {
					l.report(ruleDynamicExtensionNotAllowedInParam, p.n.get(k),
						"Dynamic extensions are not allowed to be defined on the body parameter. It should be in the schema.")
				}
			}
			l.nestingRules(p.n.get("schema"))
		case "formData":
			form = true
		case "query":
			if enc := p.n.get("x-ms-url-encoding"); enc != nil && enc.text() != "single" {
				l.report(ruleQueryParameterEncodingNotSupported, enc, "The query parameter '%s' uses x-ms-url-encoding '%s'; only 'single' is supported.", p.name, enc.text())
			}
		}
		if p.in != "formData" && p.in != "body" && p.n.get("type").text() == "file" {
			l.reportMissing(ruleFileParameterMustBeInFormData, p.n, "in", "The file parameter '%s' must be in formData.", p.name)
		}
		for _, n := range []*node{p.n, p.n.get("items")} {
			if cf := n.get("collectionFormat"); cf != nil && cf.text() != "csv" {
				l.report(ruleCollectionFormatValueNotSupported, cf, "The collectionFormat '%s' is not supported; use 'csv'.", cf.text())
			}
		}
	}
	if body && form {
		l.report(ruleParameterListFormDataAndBody, o.op.get("parameters"),
			"The operation '%s' has both a body and formData parameters.", o.label())
	}
	if (body || form) && !o.op.get("consumes").isArray() && !l.root.get("consumes").isArray() {
		l.reportMissing(ruleConsumesMissing, o.op, "consumes",
			"At least one supported MIME type must be provided in 'consumes' for operation '%s'.", o.label())
	}
	if pg := o.op.get("x-ms-pageable"); pg != nil {
		if name := pg.get("nextLinkName"); name != nil && name.text() != "nextLink" && name.text() != "@odata.nextLink" {
			l.report(ruleInvalidNextLinkNameValue, name, "The nextLinkName '%s' is not valid; use 'nextLink' or '@odata.nextLink'.", name.text())
		}
	}
	if nc := o.item.get("x-ms-notification-content"); nc != nil && o.method == "post" {
		l.nestingRules(nc.get("schema"))
	}
}

// nestingRules checks a body's schema count and depth.
func (l *linter) nestingRules(s *node) {
	if s == nil {
		return
	}
	count, deepest := 0, 0
	var at *node
	l.walkSchema(s, func(n *node, chain []schemaStep) {
		count++
		if len(chain) > deepest {
			deepest, at = len(chain), n
		}
	})
	if count > maxSchemasPerBody {
		l.report(ruleTotalSchemaCountExceedsMaxAllowed, s, "The schema has %d schemas; at most %d are allowed per body.", count, maxSchemasPerBody)
	}
	if deepest > maxSchemaNesting && at != nil {
		l.report(ruleSchemaTooDeep, s, "The schema nests %d levels deep; at most %d.", deepest, maxSchemaNesting)
	}
}

// knownExtensions are the x-ms-* extensions of Microsoft's definition schema
// and documentation (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions),
// plus the AutoRest ones the platform tolerates.
var knownExtensions = map[string]bool{
	"x-ms-summary": true, "x-ms-visibility": true, "x-ms-api-annotation": true, "x-ms-operation-context": true,
	"x-ms-capabilities": true, "x-ms-trigger": true, "x-ms-trigger-hint": true, "x-ms-trigger-metadata": true,
	"x-ms-trigger-value": true, "x-ms-notification-content": true, "x-ms-notification-url": true, "x-ms-notification": true,
	"x-ms-url-encoding": true, "x-ms-dynamic-values": true, "x-ms-dynamic-list": true, "x-ms-dynamic-schema": true,
	"x-ms-dynamic-properties": true, "x-ms-dynamic-tree": true, "x-ms-connector-metadata": true, "x-ms-pageable": true,
	"x-ms-enum-values": true, "x-ms-test-value": true, "x-ms-no-generic-test": true, "x-ms-safe-operation": true,
	"x-ms-media-kind": true, "x-ms-localizeDefaultValue": true, "x-ms-docs": true, "x-ms-deployment-version": true,
	"x-ms-keywords": true, "x-ms-parameter-location": true, "x-ms-skip-url-encoding": true, "x-ms-enum": true,
	"x-ms-editor": true, "x-ms-editor-options": true, "x-ms-property-name-alias": true, "x-ms-openai-data": true,
	"x-ms-dynamic-key": true, "x-ms-require-user-confirmation": true, "x-ms-explicit-input": true,
	"x-ms-file-picker": true, "x-ms-permission": true,
}

// extensionNameRules reports keys that look like Microsoft extensions but
// are spelt differently. Only keys written in keyword positions count: the
// members of "properties", "definitions", "paths" and the like are names.
func (l *linter) extensionNameRules(n *node, depth int) {
	if depth > maxDepth {
		return
	}
	switch n.kind {
	case kindObject:
		names := isNameMap(n)
		for i, k := range n.keys {
			if isExampleKey(k) {
				continue
			}
			if !names && strings.HasPrefix(strings.ToLower(k), "x-ms") && !knownExtensions[k] && knownCaseless(k) {
				l.report(ruleExtensionNameNotValid, n.vals[i], "'%s' is not the name of an extension; it is spelt '%s'.", k, knownSpelling(k))
			}
			l.extensionNameRules(n.vals[i], depth+1)
		}
	case kindArray:
		for _, e := range n.items {
			l.extensionNameRules(e, depth+1)
		}
	}
}

// isNameMap reports whether an object's keys are names chosen by the
// author rather than keywords.
func isNameMap(n *node) bool {
	switch n.key {
	case "properties", "definitions", "paths", "parameters", "responses", "securityDefinitions", "headers", "scopes":
		return n.parent != nil && n.parent.kind == kindObject
	}
	return false
}

func knownCaseless(k string) bool { return knownSpelling(k) != "" }

// knownSpelling returns the extension k misspells by letter case or by
// "_"/"-", or "".
func knownSpelling(k string) string {
	norm := strings.ReplaceAll(strings.ToLower(k), "_", "-")
	for name := range knownExtensions {
		if strings.ToLower(name) == norm {
			return name
		}
	}
	return ""
}
