package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/term"

	"kith/daemon"
	"kith/internal/davserver"
	"kith/internal/state"
	"kith/sync/report"
)

// command is a subcommand that works on the state of a config.
type command struct {
	args  string // the arguments after the flags, for usage
	about string
	nargs func(n int) bool
	run   func(ctx context.Context, cfg *daemon.Config, st *state.Store, args []string, stdout io.Writer) error
}

// commands are the subcommands besides check; each takes --config.
var commands = map[string]command{
	"explain": {"NAME|UID", "show the records a merged contact was made from, where each came from, and why they were joined",
		func(n int) bool { return n == 1 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, a []string, w io.Writer) error {
			return daemon.Explain(ctx, st, a[0], w)
		}},
	"split": {"UID|NAME [SOURCE:ID ...]", "these records are not one person: split the given members off (or every member)",
		func(n int) bool { return n >= 1 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, a []string, w io.Writer) error {
			_, err := daemon.Split(ctx, st, a[0], a[1:], w)
			return nextSync(err, w)
		}},
	"join": {"UID|NAME UID|NAME", "these two contacts are one person",
		func(n int) bool { return n == 2 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, a []string, w io.Writer) error {
			_, err := daemon.Join(ctx, st, a[0], a[1], w)
			return nextSync(err, w)
		}},
	"undo": {"[N]", "take back decision N of split or join (default: the last one)",
		func(n int) bool { return n <= 1 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, a []string, w io.Writer) error {
			var n int64
			if len(a) == 1 {
				var err error
				if n, err = strconv.ParseInt(a[0], 10, 64); err != nil || n <= 0 {
					return fmt.Errorf("%q is not a decision number", a[0])
				}
			}
			return nextSync(daemon.Undo(ctx, st, n, w), w)
		}},
	"restore": {"NAME|UID", "bring back a contact whose card you deleted on a target",
		func(n int) bool { return n == 1 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, a []string, w io.Writer) error {
			return daemon.Restore(ctx, st, a[0], w)
		}},
	"duplicates": {"", "list every possible duplicate the last sync found, the likeliest first (the report lists the first 100)",
		func(n int) bool { return n == 0 },
		func(ctx context.Context, _ *daemon.Config, st *state.Store, _ []string, w io.Writer) error {
			return daemon.Duplicates(ctx, st, w)
		}},
	"report": {"", "print the last report's summary",
		func(n int) bool { return n == 0 },
		func(_ context.Context, cfg *daemon.Config, _ *state.Store, _ []string, w io.Writer) error {
			return printReport(cfg, w)
		}},
}

func nextSync(err error, w io.Writer) error {
	if err == nil {
		fmt.Fprintln(w, "It takes effect at the next sync (the daemon's, or kith --once).")
	}
	return err
}

// runCommand runs a subcommand: kith NAME [--config FILE] ARGS.
func runCommand(name string, cmd command, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kith "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", defaultConfig, "configuration `file`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kith %s [--config FILE] %s\n\n%s.\n\n", name, cmd.args, cmd.about)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if !cmd.nargs(fs.NArg()) {
		fs.Usage()
		return 1
	}
	cfg, err := daemon.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 1
	}
	ctx := context.Background()
	st, err := state.Open(ctx, cfg.StateDir)
	if err != nil {
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 1
	}
	defer st.Close()
	if err := cmd.run(ctx, cfg, st, fs.Args(), stdout); err != nil {
		fmt.Fprintf(stderr, "kith %s: %v\n", name, err)
		return 1
	}
	return 0
}

// printReport prints the summary of the last report.json.
func printReport(cfg *daemon.Config, w io.Writer) error {
	f, err := os.Open(filepath.Join(cfg.Report.Dir, "report.json"))
	if err != nil {
		return fmt.Errorf("no report yet (run a sync first): %w", err)
	}
	defer f.Close()
	rep, err := report.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return rep.WriteSummary(w)
}

// runPasswd sets a login of the embedded CardDAV server: kith passwd USER.
// The password is read from the terminal without echo, or from standard
// input when that is not a terminal (one line).
func runPasswd(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kith passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", defaultConfig, "configuration `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kith passwd [--config FILE] USER\n\nSets USER's password for the embedded CardDAV server ([server] users_file).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 1
	}
	cfg, err := daemon.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 1
	}
	if cfg.Server == nil {
		fmt.Fprintf(stderr, "kith passwd: %s has no [server] table\n", *configPath)
		return 1
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kith passwd: %v\n", err)
		return 1
	}
	if err := davserver.SetPassword(cfg.Server.UsersFile, fs.Arg(0), pw); err != nil {
		fmt.Fprintf(stderr, "kith passwd: %v\n", err)
		return 1
	}
	if err := ownLikeFolder(cfg.Server.UsersFile); err != nil {
		fmt.Fprintf(stderr, "kith passwd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "password for %s set in %s\n", fs.Arg(0), cfg.Server.UsersFile)
	return 0
}

func readPassword(stdin *os.File, prompt io.Writer) ([]byte, error) {
	fd := int(stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return nil, fmt.Errorf("reading the password from standard input: %w", err)
		}
		return []byte(trimNewline(line)), nil
	}
	fmt.Fprint(prompt, "New password: ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return nil, err
	}
	fmt.Fprint(prompt, "Again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return nil, err
	}
	if string(a) != string(b) {
		return nil, errors.New("the passwords differ")
	}
	return a, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// ownLikeFolder gives path the owner of its folder when run as root: the
// service (a DynamicUser owning /var/lib/kith) must read the users file
// that root wrote with sudo kith passwd.
func ownLikeFolder(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}
