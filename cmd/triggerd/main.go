// Command triggerd is the webhook-trigger publisher for Power Automate and
// Azure Logic Apps custom connectors. This file only wires subcommands; each
// lives in its own file and calls into the library.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/alecthomas/kong"
)

// cli is the whole command line. Every flag that configures a server also
// reads an environment variable, so a container needs no arguments.
type cli struct {
	Serve     serveCmd     `cmd:"" help:"Run the publisher: the HTTP API and the delivery engine."`
	Keys      keysCmd      `cmd:"" help:"Manage API keys."`
	Migrate   migrateCmd   `cmd:"" help:"Create or upgrade the database schema (serve does it too); safe while other nodes run."`
	Check     checkCmd     `cmd:"" help:"Check the database for damage: SQLite's full integrity_check, or PostgreSQL's schema. Exit 1 when it finds a problem."`
	Publish   publishCmd   `cmd:"" help:"Publish an event to a running triggerd (a client for POST /v1/events)."`
	Webhooks  webhooksCmd  `cmd:"" help:"Inspect, enable, disable and redeliver to a tenant's subscriptions (a client of the API)."`
	Events    eventsCmd    `cmd:"" help:"Find a tenant's events and their deliveries (a client of the API)."`
	Connector connectorCmd `cmd:"" help:"Generate and lint Power Platform connector definitions."`
	Flow      flowCmd      `cmd:"" help:"Play the platform's side of a trigger locally: subscribe, receive, validate, unsubscribe."`
	Receive   receiveCmd   `cmd:"" help:"Print the notifications posted to a local address (a stand-in subscriber for trying triggerd)."`
	Bench     benchCmd     `cmd:"" help:"Measure triggerd on this machine: deliveries/s, latency and memory against a plain HTTP client's ceiling."`
}

func main() {
	var c cli
	ctx := kong.Parse(&c,
		kong.Name("triggerd"),
		kong.Description("triggerd publishes events to Power Automate and Logic Apps webhook triggers."),
		kong.UsageOnError(),
		defaultVars(),
	)
	if err := ctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(exitCode(err))
	}
}

// errorLine is err as the one line printed on failure, with one
// "triggerd:" prefix: the library already starts its own errors with it.
func errorLine(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "triggerd: ") {
		return msg
	}
	return "triggerd: " + msg
}

// exitCoder lets a command choose its exit status (lint exits 1 on findings).
type exitCoder interface{ ExitCode() int }

// exitCode finds the status anywhere in err's chain: kong wraps and joins
// what a command returns.
func exitCode(err error) int {
	// kong wraps what a command's Run returns, so look through the chain.
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}
