package main

import (
	"fmt"
	"path/filepath"

	"github.com/alecthomas/kong"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

// connectorExportCmd writes the custom connector files for a catalog, ready
// for `triggerd connector lint` and `paconn create`.
type connectorExportCmd struct {
	Out       string `required:"" type:"path" placeholder:"DIR" help:"Directory to write apiDefinition.swagger.json, apiProperties.json and settings.json into; created if missing, existing files are replaced."`
	Catalog   string `env:"TRIGGERD_CATALOG" placeholder:"FILE" help:"Catalog YAML declaring the triggers. Default: the built-in demo catalog."`
	PublicURL string `name:"public-url" env:"TRIGGERD_PUBLIC_URL" default:"http://127.0.0.1:8080" placeholder:"URL" help:"URL at which the platform reaches this triggerd, as the server uses it in Location headers; the definition's host, scheme and basePath (its path + /v1) come from it. Default: ${default}."`
}

func (c *connectorExportCmd) Run(ctx *kong.Context) error {
	cat := catalog.Demo()
	if c.Catalog != "" {
		var err error
		if cat, err = catalog.Load(c.Catalog); err != nil {
			return fmt.Errorf("connector export: %w", err)
		}
	}
	// The connector package's errors already say where they come from.
	files, err := connector.Generate(cat, connector.Options{PublicURL: c.PublicURL})
	if err != nil {
		return err
	}
	if err := files.WriteDir(c.Out); err != nil {
		return err
	}
	for _, name := range []string{connector.DefinitionFile, connector.PropertiesFile, connector.SettingsFile} {
		fmt.Fprintln(ctx.Stdout, "wrote", filepath.Join(c.Out, name))
	}
	return nil
}
