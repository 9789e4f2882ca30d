package lint

// Rule describes one check Lint makes.
type Rule struct {
	// Name is what findings carry in Finding.Rule.
	Name string `json:"name"`

	// Severity is the severity of every finding of this rule.
	Severity Severity `json:"severity"`

	// Origin says where the rule comes from: "validator" for a rule of
	// Microsoft's Swagger Validator catalogue, "schema" for Microsoft's JSON
	// Schemas, "triggerd" for the trigger checks no Microsoft tool makes.
	Origin string `json:"origin"`

	// Description says what the rule checks and why it has its severity.
	Description string `json:"description"`
}

// Rule origins.
const (
	originValidator = "validator"
	originSchema    = "schema"
	originTriggerd  = "triggerd"
)

// Rule names. Names of Microsoft's validator rules are spelled as in its
// catalogue (https://learn.microsoft.com/connectors/custom-connectors/certification-swagger-validator-rules).
const (
	// Document.
	ruleSpecificationVersionIncorrect         = "SpecificationVersionIncorrect"
	ruleHostNameNotValid                      = "HostNameNotValid"
	ruleBasePathNotValid                      = "BasePathNotValid"
	ruleSchemesArrayEmpty                     = "SchemesArrayEmpty"
	ruleSchemeNotValid                        = "SchemeNotValid"
	ruleSchemeNotSupported                    = "SchemeNotSupported"
	ruleTotalOperationsCountExceedsMaxAllowed = "TotalOperationsCountExceedsMaxAllowed"
	ruleSecurityRequirementMustBeDefined      = "SecurityRequirementMustBeDefined"

	// Operations and parameters.
	ruleOperationIDRequired                        = "OperationIdRequired"
	ruleOperationIDNotUnique                       = "OperationIdNotUnique"
	ruleOperationIDSanitized                       = "OperationIdSanitized"
	ruleOperationSummaryTooLong                    = "OperationSummaryTooLong"
	ruleRestrictedCharactersInSummary              = "RestrictedCharactersInSummary"
	ruleOperationMustHaveResponse                  = "OperationMustHaveResponse"
	ruleOperationShouldHaveSuccessfulResponse      = "OperationShouldHaveSuccessfulResponse"
	ruleBodyOrFormDataParameterInFetchOperation    = "BodyOrFormDataParameterInFetchOperationNotAllowed"
	ruleOperationParametersContainMultipleBodyParm = "OperationParametersContainMultipleBodyParameters"
	ruleConnectionIDParameterNotAllowed            = "ConnectionIdParameterNotAllowed"
	rulePathParameterMustBeRequired                = "PathParameterMustBeRequired"
	rulePathParameterNotDefinedInTemplate          = "PathParameterNotDefinedInTemplate"
	ruleOperationMissingPathParameter              = "OperationMissingPathParameter"
	rulePathParameterMissingEncoding               = "PathParameterMissingEncoding"
	ruleDefaultResponseHasSchema                   = "DefaultResponseHasSchema"
	ruleSchemaReferenceNotValid                    = "SchemaReferenceNotValid"
	ruleSchemaReferenceNotFound                    = "SchemaReferenceNotFound"
	ruleParameterReferenceNotValid                 = "ParameterReferenceNotValid"
	ruleParameterReferenceNotFound                 = "ParameterReferenceNotFound"
	ruleResponseReferenceNotValid                  = "ResponseReferenceNotValid"
	ruleResponseReferenceNotFound                  = "ResponseReferenceNotFound"
	rulePropertyMustBeRequired                     = "PropertyMustBeRequired"
	ruleInternalPropertyWithDefaultOptional        = "InternalPropertyWithDefaultOptional"

	// Webhooks (validator).
	ruleNotificationURLNotAllowedInThisPosition       = "NotificationUrlNotAllowedInThisPosition"
	ruleNotificationURLNotInternal                    = "NotificationUrlNotInternal"
	ruleNotificationURLNotRequired                    = "NotificationUrlNotRequired"
	ruleNotificationURLNotString                      = "NotificationUrlNotString"
	ruleWebhookOperationsMissingNotificationURL       = "WebhookOperationsMissingNotificationUrlProperty"
	ruleOperationMustHaveNotificationContentExtension = "OperationMustHaveNotificationContentExtension"
	ruleSchemaDefinitionSetIncorrectly                = "SchemaDefinitionSetIncorrectly"

	// Triggers (triggerd).
	ruleWebhookOperationMissingTriggerExtension   = "WebhookOperationMissingTriggerExtension"
	ruleNotificationContentInsideOperation        = "NotificationContentInsideOperation"
	ruleWebhookTriggerMissingDeleteOperation      = "WebhookTriggerMissingDeleteOperation"
	ruleDeleteOperationDoesNotMatchLocation       = "DeleteOperationDoesNotMatchLocation"
	ruleDeleteOperationNotInternal                = "DeleteOperationNotInternal"
	ruleWebhookRegistrationMissingLocationHeader  = "WebhookRegistrationMissingLocationHeader"
	ruleWebhookRegistrationMissingCreatedResponse = "WebhookRegistrationMissingCreatedResponse"
	rulePollingTriggerMissingLocationOrRetryAfter = "PollingTriggerMissingLocationOrRetryAfter"

	// JSON Schemas.
	ruleSchemaViolation                       = "SchemaViolation"
	ruleSchemaPropertyNotAllowed              = "SchemaPropertyNotAllowed"
	ruleAPIPropertiesSchemaViolation          = "ApiPropertiesSchemaViolation"
	ruleAPIPropertiesSchemaPropertyNotAllowed = "ApiPropertiesSchemaPropertyNotAllowed"
	ruleAPIPropertiesNotValidJSON             = "ApiPropertiesNotValidJson"

	// apiProperties.json against the definition.
	ruleOperationIDNotFound        = "OperationIdNotFound"
	ruleCapabilitiesMissingTrigger = "CapabilitiesMissingTriggers"
)

// catalogue is every rule, in the order Rules returns them.
var catalogue = append([]Rule{
	// Document.
	{ruleSpecificationVersionIncorrect, SeverityError, originValidator,
		`"swagger" must be the string "2.0": the platform only reads OpenAPI 2.0.`},
	{ruleHostNameNotValid, SeverityError, originValidator,
		`"host" must be a bare host[:port], without scheme or path: paconn builds the backend URL as schemes[0]://host+basePath.`},
	{ruleBasePathNotValid, SeverityError, originValidator,
		`"basePath" must start with "/".`},
	{ruleSchemesArrayEmpty, SeverityError, originValidator,
		`"schemes" must not be empty: paconn takes the backend scheme from schemes[0].`},
	{ruleSchemeNotValid, SeverityError, originValidator,
		`"schemes" may only hold "http" and "https".`},
	{ruleSchemeNotSupported, SeverityError, originValidator,
		`"ws" and "wss" are not supported.`},
	{ruleTotalOperationsCountExceedsMaxAllowed, SeverityError, originValidator,
		`A definition may have at most 256 operations (https://learn.microsoft.com/connectors/custom-connectors/faq).`},
	{ruleSecurityRequirementMustBeDefined, SeverityWarning, originValidator,
		`Every name in a "security" requirement must be a key of "securityDefinitions"; otherwise calls, the platform's webhook DELETE among them, go without credentials. A warning, not an error: certified connectors ship it, so the validator accepts it.`},

	// Operations and parameters.
	{ruleOperationIDRequired, SeverityError, originValidator,
		`Every operation needs an operationId: it is how flows and policies refer to it.`},
	{ruleOperationIDNotUnique, SeverityError, originValidator,
		`operationIds must be unique across the definition.`},
	{ruleOperationIDSanitized, SeverityInfo, originValidator,
		`operationIds should be letters, digits and underscores (a hyphen, dot or space is reported; underscores pass because certified Actsoft uses them in all 66 operationIds). Advice: it is a naming rule, and other characters work (44 corpus connectors).`},
	{ruleOperationSummaryTooLong, SeverityError, originValidator,
		`An operation summary must be 80 characters or fewer, as certification requires (https://learn.microsoft.com/connectors/custom-connectors/certification-submission); no certified operation of the public repository has a longer one.`},
	{ruleRestrictedCharactersInSummary, SeverityError, originValidator,
		`An operation summary must not contain any of / \ < > * % & ?; the validator refuses it (https://github.com/microsoft/PowerPlatformConnectors/pull/1095) and no certified operation has one.`},
	{ruleOperationMustHaveResponse, SeverityWarning, originValidator,
		`Every operation should declare at least one response: without one the designer shows no outputs. A warning, not an error: certified connectors ship it, so the validator accepts it. (9 certified webhook registrations have "responses": {}.)`},
	{ruleOperationShouldHaveSuccessfulResponse, SeverityWarning, originValidator,
		`An operation should declare a 2xx response; "default" alone makes the designer treat errors as output.`},
	{ruleBodyOrFormDataParameterInFetchOperation, SeverityWarning, originValidator,
		`A GET or HEAD must not take a body or form data: the runtime does not send it. A warning, not an error: certified connectors ship it, so the validator accepts it.`},
	{ruleOperationParametersContainMultipleBodyParm, SeverityError, originValidator,
		`An operation may have at most one body parameter.`},
	{ruleConnectionIDParameterNotAllowed, SeverityError, originValidator,
		`No parameter may be named "connectionId": the platform reserves it.`},
	{rulePathParameterMustBeRequired, SeverityError, originValidator,
		`A path parameter must have "required": true.`},
	{rulePathParameterNotDefinedInTemplate, SeverityError, originValidator,
		`Every "in": "path" parameter must appear as {name} in the operation's path.`},
	{ruleOperationMissingPathParameter, SeverityError, originValidator,
		`Every {name} in a path must have an "in": "path" parameter on each of its operations.`},
	{rulePathParameterMissingEncoding, SeverityWarning, originValidator,
		`A path parameter should declare "x-ms-url-encoding" (usually "single").`},
	{ruleDefaultResponseHasSchema, SeverityWarning, originValidator,
		`The "default" response should not have a schema. An empty schema ({}), which the portal's wizard writes, declares nothing and is not reported.`},
	{ruleSchemaReferenceNotValid, SeverityError, originValidator,
		`A schema $ref must start with "#/definitions/".`},
	{ruleSchemaReferenceNotFound, SeverityError, originValidator,
		`A schema $ref must resolve (paconn validate answers HTTP 500 instead of naming it, https://learn.microsoft.com/connectors/custom-connectors/paconn-cli).`},
	{ruleParameterReferenceNotValid, SeverityError, originValidator,
		`A parameter $ref must start with "#/parameters/".`},
	{ruleParameterReferenceNotFound, SeverityError, originValidator,
		`A parameter $ref must resolve.`},
	{ruleResponseReferenceNotValid, SeverityError, originValidator,
		`A response $ref must start with "#/responses/".`},
	{ruleResponseReferenceNotFound, SeverityError, originValidator,
		`A response $ref must resolve.`},
	{rulePropertyMustBeRequired, SeverityError, originValidator,
		`A body property that is internal and has a default must be listed in its object's "required": optional internal properties are left out of requests, so, for example, a webhook registration would lose its fixed event type (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).`},
	{ruleInternalPropertyWithDefaultOptional, SeverityWarning, originValidator,
		`A non-body parameter that is internal and has a default should be required: only required parameters are guaranteed to be sent. A warning because the validator allows it "if this is intended" (certified iMIS does it for polling state).`},

	// Webhooks.
	{ruleNotificationURLNotAllowedInThisPosition, SeverityWarning, originValidator,
		`x-ms-notification-url belongs on a property of an operation's input body; on a parameter or an operation the platform does not fill it in. In a response or notification schema it describes an output and is not reported (certified AtBot and Tikit reuse their registration schema there). A warning: certified connectors ship misplaced flags.`},
	{ruleNotificationURLNotInternal, SeverityError, originValidator,
		`The notification-URL property, or one of its parents, must be x-ms-visibility internal: the platform fills it, not the maker (643 of 643 real webhook triggers do so).`},
	{ruleNotificationURLNotRequired, SeverityInfo, originValidator,
		`The notification URL property should be required all the way through the schema chain, as the validator asks. Advice: the platform fills the callback URL whether or not it is required, and 24 certified connectors work without.`},
	{ruleNotificationURLNotString, SeverityWarning, originValidator,
		`The notification-URL property must be a string: the platform puts the callback URL in it. A warning, not an error: certified connectors ship it, so the validator accepts it.`},
	{ruleWebhookOperationsMissingNotificationURL, SeverityError, originValidator,
		`A trigger on a path with x-ms-notification-content must mark its callback property with x-ms-notification-url: true, or the platform has nowhere to put the callback URL.`},
	{ruleOperationMustHaveNotificationContentExtension, SeverityError, originValidator,
		`An operation with a notification-URL property needs x-ms-notification-content on its path item.`},
	{ruleSchemaDefinitionSetIncorrectly, SeverityError, originValidator,
		`A webhook trigger needs an output schema, in x-ms-notification-content (or on its 200/201 response), to be visible in the designer.`},

	// Triggers.
	{ruleWebhookOperationMissingTriggerExtension, SeverityWarning, originTriggerd,
		`An operation that reads as a trigger (a "When …" summary or an x-ms-trigger-hint) and has a notification-URL property but no x-ms-trigger is listed as an action, so no flow ever starts from it. Webhook actions ("send and wait for a response", 16 certified operations) have the same shape without reading as triggers, and are not reported.`},
	{ruleNotificationContentInsideOperation, SeverityError, originTriggerd,
		`x-ms-notification-content must be on the path item, beside "post", not inside the operation: the designer only reads it there (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger; 643 of 643 real webhook triggers, TRex's "move up" filter).`},
	{ruleWebhookTriggerMissingDeleteOperation, SeverityWarning, originTriggerd,
		`A webhook trigger needs a DELETE operation the platform can call on the registration's Location; without it webhooks are created and never deleted (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). A warning: the file is accepted and the trigger fires, it only leaves orphaned webhooks.`},
	{ruleDeleteOperationDoesNotMatchLocation, SeverityWarning, originTriggerd,
		`Some DELETE operation must be able to match a Location URL that names one subscription: its path needs a variable the registration's path does not have (like /webhooks/{id}) or a required query parameter (like ?id=). Header and body parameters cannot come from a URL. A warning: the check cannot see the Location value the backend sends (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).`},
	{ruleDeleteOperationNotInternal, SeverityWarning, originTriggerd,
		`The DELETE operation that unsubscribes webhook triggers should be x-ms-visibility internal (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger), or makers see it as an action. A warning: 20 certified connectors ship without it.`},
	{ruleWebhookRegistrationMissingCreatedResponse, SeverityInfo, originTriggerd,
		`A webhook registration should declare its 201 Created response, which carries the Location of the new subscription (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). Advice: the platform reads the real response, and about half of the certified registrations (227) declare only 200.`},
	{ruleWebhookRegistrationMissingLocationHeader, SeverityInfo, originTriggerd,
		`The registration's 2xx response should declare the Location header that the platform later DELETEs (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). Declaring it is harmless to omit (the platform reads the real header), so this is information.`},
	{rulePollingTriggerMissingLocationOrRetryAfter, SeverityWarning, originTriggerd,
		`A polling trigger whose backend keeps the state (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app) should declare Location and Retry-After headers on its 200 and 202 responses. Not checked when the platform keeps the state: a parameter with x-ms-trigger-value, or a pollingtrigger policy in apiProperties.json (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions).`},

	// JSON Schemas.
	{ruleSchemaViolation, SeverityWarning, originSchema,
		`The definition violates Microsoft's apiDefinition.swagger.schema.json (draft-04), patched where the service is known to be more lenient (any Swagger format, visibility and status in any case). A warning: the schema is an editor aid from 2020 and the validator accepts certified connectors that violate it; the violations that matter have their own rules.`},
	{ruleSchemaPropertyNotAllowed, SeverityInfo, originSchema,
		`The definition has a member Microsoft's apiDefinition.swagger.schema.json does not allow there. Advice: the schema (last changed 2020) does not know every extension the service accepts (x-ms-openai-data, AutoRest's x-ms-mutability), and an unknown member is ignored; misplacements that matter have their own rules.`},
	{ruleAPIPropertiesSchemaViolation, SeverityInfo, originSchema,
		`apiProperties.json violates Microsoft's paconn-apiProperties.schema.json (draft-07). Advice: the apiProperties validator accepts certified connectors that violate it (first-party identity providers, policy templates newer than the schema, IsFirstParty as a boolean), so a violation says the file differs from the published schema, not that it fails.`},
	{ruleAPIPropertiesSchemaPropertyNotAllowed, SeverityInfo, originSchema,
		`apiProperties.json has a member Microsoft's schema does not allow there. Advice, as for SchemaPropertyNotAllowed.`},
	{ruleAPIPropertiesNotValidJSON, SeverityError, originTriggerd,
		`apiProperties.json must be a JSON object: paconn refuses to create or update the connector otherwise. The definition is still checked.`},

	// apiProperties.json against the definition.
	{ruleOperationIDNotFound, SeverityInfo, originValidator,
		`A policy's x-ms-apimTemplate-operationName should name operations of the definition. Advice: a name that matches nothing is ignored and the policy applies to the others; on the corpus these are leftovers of renamed operations (Planner, EngagementCloud), worth checking but not failures.`},
	{ruleCapabilitiesMissingTrigger, SeverityInfo, originTriggerd,
		`apiProperties.json "capabilities" should list "triggers" when the definition has triggers, for the Logic Apps designer's browse view. Information only: 179 of 214 connectors with triggers have "capabilities": [] and work.`},
}, validatorCatalogue...)

// ruleIndex finds a rule by name.
var ruleIndex = func() map[string]Rule {
	m := make(map[string]Rule, len(catalogue))
	for _, r := range catalogue {
		m[r.Name] = r
	}
	return m
}()

// Rules returns every rule Lint checks. The slice is a copy.
func Rules() []Rule {
	return append([]Rule(nil), catalogue...)
}

func isSchemaRule(name string) bool {
	switch name {
	case ruleSchemaViolation, ruleSchemaPropertyNotAllowed,
		ruleAPIPropertiesSchemaViolation, ruleAPIPropertiesSchemaPropertyNotAllowed:
		return true
	}
	return false
}
