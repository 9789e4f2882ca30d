package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/triggerd/triggerd"
)

type publishCmd struct {
	Type   string `required:"" help:"Event type: the trigger name, e.g. order.created."`
	Data   string `required:"" help:"Event data as JSON, or @FILE to read it from a file (@- for stdin)."`
	ID     string `help:"Idempotency key: publishing the same id again delivers nothing new."`
	URL    string `name:"url" env:"TRIGGERD_URL" default:"http://127.0.0.1:8080" help:"Base URL of the triggerd API."`
	APIKey string `name:"api-key" env:"TRIGGERD_API_KEY" required:"" help:"API key of the tenant publishing the event."`
}

func (c *publishCmd) Run() error {
	data, err := readData(c.Data)
	if err != nil {
		return err
	}
	if !json.Valid(data) {
		return fmt.Errorf("--data is not valid JSON")
	}
	body, _ := json.Marshal(map[string]any{"type": c.Type, "id": c.ID, "data": json.RawMessage(data)})
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(triggerd.APIKeyHeader, c.APIKey)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("publish: read response: %w", err)
	}
	os.Stdout.Write(out)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("publish: triggerd answered %s", resp.Status)
	}
	return nil
}

func readData(arg string) ([]byte, error) {
	name, ok := strings.CutPrefix(arg, "@")
	if !ok {
		return []byte(arg), nil
	}
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return b, nil
}
