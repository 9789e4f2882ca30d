package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiveCmd is a stand-in subscriber for trying triggerd by hand: it prints
// every notification and, given the subscription's secret, verifies its
// Standard Webhooks signature the way a receiver should.
type receiveCmd struct {
	Addr   string `default:"127.0.0.1:9000" help:"Address to listen on."`
	Secret string `help:"The subscription's whsec_ secret: verify each notification's signature with it."`
	Status int    `default:"202" help:"HTTP status to answer with (try 503 to watch retries, 410 to see a subscription go inactive)."`
}

func (c *receiveCmd) Run() error {
	var verifier *standardwebhooks.Webhook
	if c.Secret != "" {
		v, err := standardwebhooks.NewWebhook(c.Secret)
		if err != nil {
			return fmt.Errorf("--secret: %w", err)
		}
		verifier = v
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	fmt.Printf("receiving on http://%s/ (answering %d)\n", ln.Addr(), c.Status)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s\n", time.Now().Format(time.TimeOnly), r.Method, r.URL.Path)
		names := make([]string, 0, len(r.Header))
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "webhook-") || name == "Content-Type" || name == "User-Agent" {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "  %s: %s\n", name, r.Header.Get(name))
		}
		if verifier != nil {
			if err := verifier.Verify(body, r.Header); err != nil {
				fmt.Fprintf(&b, "  signature: INVALID (%v)\n", err)
			} else {
				b.WriteString("  signature: valid\n")
			}
		}
		fmt.Fprintf(&b, "  %s\n", body)
		os.Stdout.WriteString(b.String())
		w.WriteHeader(c.Status)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("receive: %w", err)
	}
	return nil
}
