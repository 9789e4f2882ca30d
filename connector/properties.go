package connector

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/triggerd/triggerd/internal/platform"
)

// apiProperties is apiProperties.json (paconn-apiProperties.schema.json,
// https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json).
type apiProperties struct {
	Properties propertiesBody `json:"properties"`
}

type propertiesBody struct {
	ConnectionParameters object   `json:"connectionParameters"`
	IconBrandColor       string   `json:"iconBrandColor"`
	Capabilities         []string `json:"capabilities"`
	Publisher            string   `json:"publisher,omitempty"`
}

type connectionParameter struct {
	Type         string       `json:"type"`
	UIDefinition uiDefinition `json:"uiDefinition"`
}

type uiDefinition struct {
	DisplayName string      `json:"displayName"`
	Description string      `json:"description"`
	Tooltip     string      `json:"tooltip"`
	Constraints constraints `json:"constraints"`
}

type constraints struct {
	TabIndex  int  `json:"tabIndex"`
	ClearText bool `json:"clearText"`
	// Required is a string in this schema, "true" or "false".
	Required string `json:"required"`
}

func (g *generator) properties() (*apiProperties, error) {
	color := cmp.Or(g.opts.IconBrandColor, g.cat.Connector.IconBrandColor, DefaultIconBrandColor)
	if problem := platform.BrandColorProblem(color); problem != "" {
		return nil, fmt.Errorf("connector: icon brand colour %s", problem)
	}
	// "triggers" is listed because the Logic Apps designer's browse view
	// looks for it (LogicAppsUX#6330); "actions"
	// only when the application adds any, the unsubscribe operation being
	// internal.
	caps := []string{"triggers"}
	if len(g.opts.Actions) > 0 {
		caps = []string{"actions", "triggers"}
	}
	var params object
	params.add(APIKeyParameter, connectionParameter{
		Type: "securestring",
		UIDefinition: uiDefinition{
			DisplayName: "API Key",
			Description: fmt.Sprintf("A connection-scoped API key for %s (triggerd keys create --scope connection), sent in the %s header.", g.cat.Connector.Title, APIKeyHeader),
			Tooltip:     "Provide your API key",
			Constraints: constraints{TabIndex: 2, ClearText: false, Required: "true"},
		},
	})
	return &apiProperties{Properties: propertiesBody{
		ConnectionParameters: params,
		IconBrandColor:       color,
		Capabilities:         caps,
		Publisher:            g.cat.Connector.Publisher,
	}}, nil
}

// paconnSettings is settings.json for paconn (paconn-settings.schema.json).
// File names are relative to the directory paconn runs in, so the files are
// used with `cd DIR && paconn create --settings settings.json`. The
// environment and connector ID are left out: paconn asks for the environment
// and writes both back after create (https://learn.microsoft.com/connectors/custom-connectors/paconn-cli), and
// Files.WriteDir keeps them from then on.
type paconnSettings struct {
	ConnectorID         string `json:"connectorId,omitempty"`
	Environment         string `json:"environment,omitempty"`
	APIDefinition       string `json:"apiDefinition"`
	APIProperties       string `json:"apiProperties"`
	Icon                string `json:"icon"`
	PowerAppsURL        string `json:"powerAppsUrl"`
	PowerAppsAPIVersion string `json:"powerAppsApiVersion"`
}

func settings() *paconnSettings {
	return &paconnSettings{
		APIDefinition: DefinitionFile,
		APIProperties: PropertiesFile,
		// paconn uploads the icon only when the file exists, so an author
		// can drop an icon.png beside the files and nothing else changes.
		Icon:                "icon.png",
		PowerAppsURL:        "https://api.powerapps.com",
		PowerAppsAPIVersion: "2016-11-01",
	}
}

// settingsFor returns the settings.json to write into dir: the generated one,
// plus the connectorId and environment of a settings.json already there.
// paconn records them after `paconn create`; dropping them on the next export
// would make `paconn update --settings settings.json` ask again, or create a
// second connector.
func (f *Files) settingsFor(dir string) ([]byte, error) {
	path := filepath.Join(dir, SettingsFile)
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f.Settings, nil
	}
	if err != nil {
		return nil, fmt.Errorf("connector: read existing %s: %w", path, err)
	}
	var prev paconnSettings
	if err := json.Unmarshal(old, &prev); err != nil {
		return nil, fmt.Errorf("connector: existing %s is not a paconn settings file (%v); fix or delete it", path, err)
	}
	if prev.ConnectorID == "" && prev.Environment == "" {
		return f.Settings, nil
	}
	var next paconnSettings
	if err := json.Unmarshal(f.Settings, &next); err != nil {
		return nil, fmt.Errorf("connector: decode generated %s: %w", SettingsFile, err)
	}
	next.ConnectorID, next.Environment = prev.ConnectorID, prev.Environment
	return document(next)
}
