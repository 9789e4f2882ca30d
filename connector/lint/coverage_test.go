package lint

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// validatorRuleNames are the 83 rules the validator's catalogue names
// (https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules),
// spelled as there.
var validatorRuleNames = []string{
	// Webhooks.
	"NotificationUrlNotAllowedInThisPosition", "NotificationUrlNotInternal", "NotificationUrlNotRequired",
	"NotificationUrlNotString", "WebhookOperationsMissingNotificationUrlProperty",
	"OperationMustHaveNotificationContentExtension", "SchemaDefinitionSetIncorrectly",
	"NotificationExtensionNotSupportedInWebhookOperation", "NotificationExtensionSupportedForTriggerOnly",
	"NotificationOperationMustBeWebhook", "ParamtersWithSameNameMustHaveSameTypeAndVisibility",
	// Operations.
	"OperationIdNotUnique", "OperationIdRequired", "OperationIdSanitized", "OperationIdTooLong",
	"OperationIdShouldEndWithRevision", "OperationSummaryTooLong", "RestrictedCharactersInSummary",
	"OperationMustHaveResponse", "OperationShouldHaveSuccessfulResponse", "OperationHasManyResponsesWithSchema",
	"ConsumesMissing", "BodyOrFormDataParameterInFetchOperationNotAllowed", "ConnectionIdParameterNotAllowed",
	"DuplicateOperationPath", "PartialDuplicateOperationPath", "PathRedefined",
	"OperationPathMayNotContainQueryOrFragment", "OperationPathMustStartWithSlash", "OperationPathTemplateNotValid",
	"PathParameterMustBeRequired", "PathParameterNotDefinedInTemplate", "OperationMissingPathParameter",
	"OperationParametersContainMultipleBodyParameters", "TotalOperationsCountExceedsMaxAllowed",
	"DynamicExtensionDefinitionNotAllowedInParameter", "InvalidNextLinkNameValue",
	// Responses.
	"BodyParameterSchemaRequired", "DefaultResponseHasSchema", "ResponseMustBeDefaultOrHttpStatusCode",
	"SchemaReferenceNotValid", "SchemaRefLoopNotAllowed", "SchemaTooDeep", "SchemaTypeFileNotValid",
	"TotalSchemaCountExceedsMaxAllowed", "ResponseHeadersAreNotUnique",
	// Security.
	"SecurityRequirementMustBeDefined", "SecurityRequirementMustHaveEmptyValue",
	"SecurityRequirementMustHaveValue", "OAuthSecurityRequirementValueMustBeScopeName",
	// Properties and metadata.
	"AdditionalPropertyNotAllowed", "AdditionalPropertyNotAllowedAdjacentToRef", "BasePathNotValid",
	"HostNameNotValid", "ContactEmailNotValid", "ConnectorMetadataPropertiesMissing", "InvalidConnectorCategory",
	"TooManyConnectorCategories", "ExtensionNameNotValid", "MimeTypeNotValid", "PropertyMustBeRequired",
	"InternalPropertyWithDefaultOptional", "RequiredPropertyDefinitionMissing", "RequiredPropertyNotOnObject",
	"RequiredPropertyArrayEmpty", "SchemesArrayEmpty", "SpecificationVersionIncorrect", "UrlNotValid",
	"FieldLengthExceeded", "FieldLengthNotInRange", "ValueContainsRestrictedWords", "ValueMustBeInEnglish",
	"ValueMustEndWithAlphanumeric",
	// Parameters.
	"FileParameterMustBeInFormData", "ParameterListContainsFormDataAndBody", "PathParameterMissingEncoding",
	"QueryParameterEncodingNotSupported", "ReservedParameterIsUsed", "SourcePropertyInternal",
	// Not supported.
	"CollectionFormatValueNotSupported", "MimeTypeNotSupported", "PathItemRefNotSuppored", "SwaggerKeywordNotSupported",
}

// At least 70 of the validator's 83 named rules are implemented (each has its
// firing and clean case in TestRules, by TestEveryRuleIsTested).
func TestValidatorCoverage(t *testing.T) {
	t.Parallel()
	require.Len(t, validatorRuleNames, 83) // the "80" is a round figure
	implemented := 0
	for _, name := range validatorRuleNames {
		if _, ok := ruleIndex[name]; ok {
			implemented++
		} else {
			t.Logf("not implemented: %s", name)
		}
	}
	t.Logf("%d of %d named validator rules implemented", implemented, len(validatorRuleNames))
	require.GreaterOrEqual(t, implemented, 70)
}
