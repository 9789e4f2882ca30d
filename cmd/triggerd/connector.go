package main

// connectorCmd groups the connector-definition commands.
type connectorCmd struct {
	Export connectorExportCmd `cmd:"" help:"Write apiDefinition.swagger.json, apiProperties.json and settings.json for paconn."`
	Lint   connectorLintCmd   `cmd:"" help:"Check a connector definition against the platform's rules."`
	Diff   connectorDiffCmd   `cmd:"" help:"Report the changes between two versions of a definition that break existing flows."`
}
