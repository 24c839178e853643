package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"
)

// importCommand is "backbone import DIR".
func importCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	server := fs.String("server", env("BACKBONE_SERVER", "http://127.0.0.1:8080"),
		"address of the running server (BACKBONE_SERVER)")
	token := fs.String("token", env("BACKBONE_TOKEN", ""), "bearer token (BACKBONE_TOKEN)")
	dataset := fs.String("dataset", "", "the dataset's name, from which its stable IDs "+
		"derive (default: the directory's name)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: backbone import [flags] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	if *token == "" {
		return fmt.Errorf("import needs a token: pass --token or set BACKBONE_TOKEN")
	}
	return importDir(ctx, *server, *token, fs.Arg(0), *dataset)
}

// importDir imports a dataset directory and prints the summary line. The
// dataset's name ("" for the directory's) keys its stable IDs: the same rows
// imported under another name become other aggregates.
func importDir(ctx context.Context, server, token, dir, dataset string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if dataset == "" {
		dataset = filepath.Base(abs)
	}
	im := &importer{
		server:  server,
		token:   token,
		dataset: dataset,
		client:  &http.Client{Timeout: 30 * time.Second},
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		im.progress = os.Stderr
	}

	start := time.Now()
	if err := im.run(ctx, dir); err != nil {
		return fmt.Errorf("import stopped after %d rows (%d events appended): %w",
			im.rows, im.appended, err)
	}
	imported := time.Since(start)
	projected, err := im.waitProjected(ctx)
	if err != nil {
		return err
	}
	for _, why := range im.skipped {
		fmt.Println(why)
	}
	fmt.Printf("import took %s, projection caught up %s later (stream sequence %d)\n",
		imported.Round(time.Millisecond), projected.Round(time.Millisecond), im.lastSeq)
	fmt.Printf("imported %d rows: %d events appended, %d already present\n",
		im.rows, im.appended, im.present)
	return nil
}

// waitProjected waits until the read model shows the last imported event.
func (im *importer) waitProjected(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	url := fmt.Sprintf("%s/api/v1/issues?after=%d", im.server, im.lastSeq)
	for attempt := 0; attempt < 12; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := im.client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("wait for projection: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("the read model did not reach sequence %d within a minute", im.lastSeq)
}
