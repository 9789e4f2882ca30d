// Package platform is the one home of the Power Platform's rules for a
// custom connector that more than one triggerd package enforces: text limits,
// the characters a summary may not hold, the shapes of operationIds, hosts,
// paths and categories, and how the platform compiles a JSON Schema
// ([CompileSchema]).
//
// The catalog refuses what the platform would refuse, the connector generator
// never writes it, and the linter reports it; all three read the rule here, so
// a catalog that parses always exports a definition the linter passes.
//
// Sources: the validator's rule catalogue
// (https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules),
// the certification submission guide
// (https://learn.microsoft.com/connectors/custom-connectors/certification-submission),
// the string guidance
// (https://learn.microsoft.com/connectors/custom-connectors/connector-string-guidance),
// the connector FAQ (https://learn.microsoft.com/connectors/custom-connectors/faq) and
// Microsoft's JSON Schema for connector definitions
// (https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/apiDefinition.swagger.schema.json).
package platform

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// TitleMaxLen is the longest connector title certification accepts
	// (certification submission guide).
	TitleMaxLen = 30

	// DescriptionMinLen and DescriptionMaxLen bound the connector
	// description (certification submission guide).
	DescriptionMinLen = 30
	DescriptionMaxLen = 500

	// SummaryMaxLen is the longest operation or parameter summary:
	// certification asks for "80 characters or shorter", and no certified
	// operation of the public repository has a longer one. The validator's
	// own text says "fewer than 120", which is the runtime's bound, not the
	// one reviewers and CI apply.
	SummaryMaxLen = 80

	// OperationIDMaxLen is the longest operationId. The validator's
	// OperationIdTooLong does not print its bound in the catalogue; 80 is
	// the bound of the API Management operation names that connectors are
	// deployed as (an assumption, not a documented figure), and the longest
	// operationId of the public repository's certified connectors has 69.
	OperationIDMaxLen = 80

	// MaxOperations is the most operations one definition may hold
	// (connector FAQ: "Maximum number of operations allowed in a Swagger
	// file 256").
	MaxOperations = 256

	// MaxCategories is how many categories x-ms-connector-metadata may list
	// (TooManyConnectorCategories; certification submission guide: "a
	// maximum of two").
	MaxCategories = 2

	// IndependentPublisherBrandColor is the iconBrandColor every
	// independent-publisher connector must use
	// (https://github.com/microsoft/PowerPlatformConnectors#readme).
	IndependentPublisherBrandColor = "#da3b01"
)

// RestrictedSummaryChars are the characters the validator's
// RestrictedCharactersInSummary refuses in an operation summary, as its
// message prints them
// (https://github.com/microsoft/PowerPlatformConnectors/pull/1095).
const RestrictedSummaryChars = `/\<>*%&?`

// generatedSummaryExtraChars are refused in summaries triggerd writes, on
// top of RestrictedSummaryChars: certification asks for "only alphanumeric
// characters or parentheses", and brackets read as markup in the designer.
// The linter does not report them (certified connectors use them).
const generatedSummaryExtraChars = `[]{}`

// SummaryProblem says what is wrong with a summary triggerd is to write
// (a trigger's, an action's, a property's x-ms-summary), or returns "" when
// it is fine. limit is the length bound, normally SummaryMaxLen (less when a
// suffix is appended later). The message names the validator rule.
func SummaryProblem(s string, limit int) string {
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Sprintf("is %d characters; at most %d (OperationSummaryTooLong)", n, limit)
	}
	if i := strings.IndexAny(s, RestrictedSummaryChars+generatedSummaryExtraChars); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("must not contain %q: the platform refuses any of %s in a summary, and triggerd also %s (RestrictedCharactersInSummary)",
			r, RestrictedSummaryChars, generatedSummaryExtraChars)
	}
	return ""
}

// HasRestrictedSummaryChar reports whether s holds a character the
// validator refuses in a summary.
func HasRestrictedSummaryChar(s string) bool { return strings.ContainsAny(s, RestrictedSummaryChars) }

// GeneratedOperationID is the shape of operationIds triggerd writes:
// PascalCase ASCII letters and digits, as Microsoft's coding standard asks
// (https://learn.microsoft.com/connectors/custom-connectors/coding-standards).
// Every such id survives SanitizeOperationID unchanged.
var GeneratedOperationID = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// OperationIDProblem says what is wrong with an operationId triggerd is to
// write, or returns "".
func OperationIDProblem(id string) string {
	switch {
	case !GeneratedOperationID.MatchString(id):
		return fmt.Sprintf("%q must be PascalCase letters and digits, like OrderCreated", id)
	case len(id) > OperationIDMaxLen:
		return fmt.Sprintf("%q is %d characters; at most %d (OperationIdTooLong)", id, len(id), OperationIDMaxLen)
	}
	return ""
}

// SanitizeOperationID keeps the ASCII letters, digits and underscores of an
// operationId, which is what the validator's OperationIdSanitized compares
// with. Its catalogue says "non-alphanumeric", but underscores survive:
// certified Actsoft has one in all 66 of its operationIds
// (ClientController_Get) and passes the validator in the repository's CI.
func SanitizeOperationID(id string) string {
	var b strings.Builder
	for _, r := range id {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hostPattern is the pattern Microsoft's definition schema gives "host": a
// name or address with an optional port, no scheme, path or template.
var hostPattern = regexp.MustCompile(`^[^{}/ :\\]+(?::\d+)?$`)

// ValidHost reports whether s is a valid definition "host"
// (HostNameNotValid).
func ValidHost(s string) bool { return hostPattern.MatchString(s) }

// PathProblem returns the validator rule an operation path template (a key
// of "paths") breaks and what is wrong, or two empty strings: it must start
// with "/" (OperationPathMustStartWithSlash),
// hold no query or fragment (OperationPathMayNotContainQueryOrFragment) and
// its braces must pair around non-empty names (OperationPathTemplateNotValid).
func PathProblem(p string) (rule, problem string) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "OperationPathMustStartWithSlash", "must start with /"
	case strings.ContainsAny(p, "?#"):
		return "OperationPathMayNotContainQueryOrFragment", "must not contain a query or fragment (? or #); declare query parameters instead"
	}
	open := false
	name := 0
	for _, r := range p {
		switch r {
		case '{':
			if open {
				return "OperationPathTemplateNotValid", "has a '{' inside a template variable"
			}
			open, name = true, 0
		case '}':
			if !open || name == 0 {
				return "OperationPathTemplateNotValid", "has a '}' without a variable name before it"
			}
			open = false
		default:
			if open {
				if r == '/' {
					return "OperationPathTemplateNotValid", "has a template variable that spans a '/'"
				}
				name++
			}
		}
	}
	if open {
		return "OperationPathTemplateNotValid", "has a '{' that is never closed"
	}
	return "", ""
}

// Categories are the connector categories certification accepts in
// x-ms-connector-metadata (InvalidConnectorCategory; certification
// submission guide). Every category of the public repository's certified
// connectors is one of them.
var categories = []string{
	"AI", "Business Intelligence", "Business Management", "Collaboration", "Commerce",
	"Communication", "Content and Files", "Data", "Finance", "Human Resources",
	"Internet of Things", "IT Operations", "Lifestyle and Entertainment", "Marketing",
	"Productivity", "Sales and CRM", "Security", "Social Media", "Website",
}

// Categories returns the accepted connector categories; the slice is a copy.
func Categories() []string { return slices.Clone(categories) }

// ValidCategory reports whether c is an accepted connector category.
func ValidCategory(c string) bool { return slices.Contains(categories, c) }

// brandColorPattern is the form of apiProperties' iconBrandColor.
var brandColorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// BrandColorProblem says what is wrong with an iconBrandColor, or returns
// "". Certified connectors must not use #007ee5 or #ffffff, which the
// designer reserves (https://github.com/microsoft/PowerPlatformConnectors#readme).
func BrandColorProblem(c string) string {
	switch {
	case !brandColorPattern.MatchString(c):
		return fmt.Sprintf("%q must be a colour written #rrggbb, like #0b6a0b", c)
	case strings.EqualFold(c, "#007ee5"), strings.EqualFold(c, "#ffffff"):
		return fmt.Sprintf("%q is reserved by the designer; choose another colour", c)
	}
	return ""
}
