// Command webstore is the web store of the webhook-trigger seed, built as a
// real application would build it: a small order API that embeds triggerd as
// a library, keeps its orders in the same database as triggerd (a SQLite
// file or PostgreSQL), and
// publishes each order event inside the transaction that writes the order.
//
// Its connector offers the triggers "When a new order is created" (whose
// notification carries only the order's id and key) and "When an order's
// status changes" (the whole order, with a status filter), and the actions
// Get order details, List orders and Update order status. See README.md.
//
//	go run ./examples/webstore --allow-private-callbacks
//	go run ./examples/webstore --create-key acme
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/connector"
)

// Defaults of the flags.
const (
	addrDefault = "127.0.0.1:8090"
	dbDefault   = "webstore.db"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webstore:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command line that cannot be run; main exits 2 for it.
type usageError struct{ error }

// options are the command-line flags.
type options struct {
	addr                  string
	db                    string
	publicURL             string
	allowPrivateCallbacks bool
	createKey             string
	exportConnector       string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("webstore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", addrDefault, "address to listen on")
	fs.StringVar(&o.db, "db", dbDefault, "database: a SQLite file path (created if missing) or a postgres:// URL; the orders and triggerd's tables share it")
	fs.StringVar(&o.publicURL, "public-url", "", "externally visible base URL, used in Location headers and the connector definition (default http://<addr>)")
	fs.BoolVar(&o.allowPrivateCallbacks, "allow-private-callbacks", false, "let callback URLs reach loopback and private addresses, as triggerd flow needs (development only)")
	fs.StringVar(&o.createKey, "create-key", "", "create an API key for `tenant`, print it and exit")
	fs.StringVar(&o.exportConnector, "export-connector", "", "write the connector files (definition, apiProperties.json, settings.json) into `dir` and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: webstore [flags]\n\nThe example web store: an order API embedding triggerd.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected argument %q; see --help", fs.Arg(0))}
	}
	if o.createKey != "" && o.exportConnector != "" {
		return o, usageError{errors.New("--create-key and --export-connector are separate steps; pass one of them")}
	}
	return o, nil
}

// run is the whole program, apart from the process's signals and exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	db, dialect, err := openDatabase(ctx, o.db)
	if err != nil {
		return err
	}
	defer db.Close()

	if o.createKey != "" || o.exportConnector != "" {
		return runOnce(ctx, db, dialect, o, stdout, logger)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer ln.Close()
	publicURL := o.publicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	s, err := newShop(ctx, db, dialect, triggerd.Config{
		PublicURL:             publicURL,
		AllowPrivateCallbacks: o.allowPrivateCallbacks,
		Logger:                logger,
	})
	if err != nil {
		return err
	}
	dbHint := o.db
	if dialect == dialectPostgres {
		dbHint = "<the same postgres:// URL>" // never print its password
	}
	return s.serve(ctx, ln, stdout, dbHint)
}

// runOnce does a one-off task on the database and returns: --create-key or
// --export-connector. Neither starts deliveries, so either may run while the
// server does.
func runOnce(ctx context.Context, db *sql.DB, d dialect, o options, stdout io.Writer, logger *slog.Logger) error {
	publicURL := o.publicURL
	if publicURL == "" {
		publicURL = "http://" + o.addr
	}
	s, err := newShop(ctx, db, d, triggerd.Config{PublicURL: publicURL, Logger: logger})
	if err != nil {
		return err
	}
	if o.createKey != "" {
		key, err := s.pub.CreateAPIKey(ctx, o.createKey)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
		return nil
	}
	if err := s.pub.Connector().WriteDir(o.exportConnector); err != nil {
		return err
	}
	for _, name := range []string{connector.DefinitionFile, connector.PropertiesFile, connector.SettingsFile} {
		fmt.Fprintln(stdout, filepath.Join(o.exportConnector, name))
	}
	return nil
}

// newShop creates the web store's tables and a triggerd publisher with its
// triggers and actions on db. cfg carries everything else (public URL,
// logger, delivery settings).
func newShop(ctx context.Context, db *sql.DB, d dialect, cfg triggerd.Config) (*shop, error) {
	cat, err := newCatalog()
	if err != nil {
		return nil, fmt.Errorf("web store catalog: %w", err)
	}
	cfg.Catalog = cat
	cfg.Actions = storeActions()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := migrate(ctx, db, d); err != nil {
		return nil, err
	}
	pub, err := triggerd.New(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	return &shop{
		db:        db,
		dialect:   d,
		pub:       pub,
		log:       cfg.Logger,
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
		now:       func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}, nil
}

// serve delivers notifications and answers HTTP on ln until ctx ends, then
// lets requests and deliveries in flight finish. dbHint is what the banner
// shows as --db.
func (s *shop) serve(ctx context.Context, ln net.Listener, stdout io.Writer, dbHint string) error {
	if err := s.pub.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	fmt.Fprintf(stdout, "connector definition: %s/v1/openapi.json\n", s.publicURL)
	fmt.Fprintf(stdout, "create an API key:    go run ./examples/webstore --db %s --create-key TENANT\n", dbHint)

	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "error", err)
	}
	if err := s.pub.Stop(sctx); err != nil {
		return errors.Join(serveErr, fmt.Errorf("stop deliveries: %w", err))
	}
	return serveErr
}
