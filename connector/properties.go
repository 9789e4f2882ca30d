package connector

import (
	"fmt"
	"regexp"
)

// apiProperties is apiProperties.json (paconn-apiProperties.schema.json,
// power-platform-triggers.md §3.4).
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

var brandColorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func (g *generator) properties() (*apiProperties, error) {
	color := g.opts.IconBrandColor
	if color == "" {
		color = DefaultIconBrandColor
	}
	if !brandColorRe.MatchString(color) {
		return nil, fmt.Errorf("connector: icon brand colour %q must be written #rrggbb, like %s", color, DefaultIconBrandColor)
	}
	// "triggers" is listed because the Logic Apps designer's browse view
	// looks for it (LogicAppsUX#6330, trigger-pain-points.md #14); "actions"
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
			Description: fmt.Sprintf("The API key for %s, sent in the %s header.", g.cat.Connector.Title, APIKeyHeader),
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
// and writes both back after create (power-platform-triggers.md §6).
type paconnSettings struct {
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
