// Command backbone runs Backbone: the API and web UI, the projectors that build
// read models, and tools to import datasets. See "backbone help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `backbone: the digital backbone of a Collective Impact effort

Usage:
  backbone serve [flags]        run the API and the projectors (embedded NATS by default)
  backbone import [flags] DIR   load a dataset directory through a running server's API
  backbone project [flags] [NAME...]
                                run the projectors of some or all read models, without the API
  backbone rebuild [flags] NAME rebuild a read model beside the live one, then switch it in
  backbone bench [flags]        time a rebuild of every read model on generated events
  backbone user add [flags] EMAIL
                                add a web UI user (the first admin), or print an invitation
  backbone help                 show this help

Run "backbone COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "import":
		err = importCommand(ctx, args)
	case "project":
		err = project(ctx, args)
	case "rebuild":
		err = rebuildCommand(ctx, args)
	case "bench":
		err = benchCommand(ctx, args)
	case "user":
		err = userCommand(ctx, args)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "backbone: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "backbone:", err)
		os.Exit(1)
	}
}

// env returns the environment variable's value, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// newLogger writes structured logs to stderr: text by default, JSON when
// BACKBONE_LOG_FORMAT=json.
func newLogger() *slog.Logger {
	if os.Getenv("BACKBONE_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
