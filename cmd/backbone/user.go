package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/term"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

const userUsage = `Usage: backbone user add [flags] EMAIL

Adds a user who signs in to the web UI, such as the first backbone admin. The
password is asked for twice on a terminal, or read from the first line of
standard input otherwise. With --invite, no password is set: an invitation
link is printed instead, for the user to choose one.
`

// userCommand is "backbone user add".
func userCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(os.Stderr, userUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	role := fs.String("role", string(domain.RoleAdmin),
		"admin, partner_editor, analyst or viewer")
	partner := fs.String("partner", "", "ID of the user's partner (required for partner_editor)")
	databaseURL := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL),
		"PostgreSQL URL (DATABASE_URL)")
	invite := fs.Bool("invite", false, "print an invitation link instead of setting a password")
	baseURL := fs.String("base-url", env("BACKBONE_BASE_URL", "http://127.0.0.1:8080"),
		"address of the web UI, for the invitation link (BACKBONE_BASE_URL)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), userUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	var partnerID *uuid.UUID
	if *partner != "" {
		id, err := uuid.Parse(*partner)
		if err != nil {
			return fmt.Errorf("--partner %q is not a partner ID", *partner)
		}
		partnerID = &id
	}

	pool, err := openDatabase(ctx, *databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	acc, err := accounts.Open(ctx, pool)
	if err != nil {
		return err
	}
	email := fs.Arg(0)
	if *invite {
		cli := domain.Principal{Actor: "cli:backbone user add", Role: domain.RoleAdmin}
		token, inv, err := acc.Invite(ctx, cli, email, domain.Role(*role), partnerID)
		if err != nil {
			return err
		}
		fmt.Printf("invitation for %s (%s), valid until %s:\n%s/invitations/%s\n", inv.Email,
			accounts.RoleName(inv.Role), inv.Expires.Format("2 Jan 2006 15:04 MST"),
			strings.TrimRight(*baseURL, "/"), token)
		return nil
	}

	password, err := readPassword(os.Stdin)
	if err != nil {
		return err
	}
	u, err := acc.AddUser(ctx, accounts.NewUser{Email: email, Password: password,
		Role: domain.Role(*role), PartnerID: partnerID})
	if err != nil {
		return err
	}
	fmt.Printf("added %s as %s; sign in at %s/signin\n", u.Email, accounts.RoleName(u.Role),
		strings.TrimRight(*baseURL, "/"))
	return nil
}

// readPassword asks for a password twice on a terminal, or reads the first
// line of a pipe, so that scripts can set one.
func readPassword(in *os.File) (string, error) {
	if !term.IsTerminal(int(in.Fd())) {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprintf(os.Stderr, "Password (at least %d characters): ", accounts.MinPassword)
	first, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(os.Stderr, "Password again: ")
	second, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", fmt.Errorf("the two passwords differ; nothing was added")
	}
	return string(first), nil
}
