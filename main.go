// Command kith merges address books and business-card scans into one
// deduplicated contact set and reports whom you are losing touch with.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"kith/daemon"
	"kith/internal/demo"
)

// defaultConfig is where the packaged service reads its config.
const defaultConfig = "/etc/kith/kith.toml"

const usage = `kith merges your address books and business-card scans into one contact set
and tells you whom you are losing touch with.

Usage:
  kith                        sync the bundled example data once (a demo, nothing to set up)
  kith --config FILE --once   sync once and exit
  kith --config FILE          run as a daemon until stopped (the systemd service does this)
  kith --config FILE --once --dry-run
                              print what a sync would change; write nothing
  kith check [--config FILE]  check a config: read every source and target, say what is
                              there or exactly what is wrong; changes nothing
  kith explain NAME|UID       the records a merged contact was made from, and why
  kith duplicates             every possible duplicate, the likeliest first
  kith split UID [SOURCE:ID ...]
                              these records are not one person (all, or those given)
  kith join UID|NAME UID|NAME these two contacts are one person
  kith undo [N]               take back a split or join (default: the last)
  kith restore NAME|UID       bring back a contact you deleted on a target
  kith report                 the last report's summary in the terminal
  kith passwd USER            set a login of the embedded CardDAV server
  (each of these takes --config FILE, default /etc/kith/kith.toml)
  kith --version              print the version
  kith --help                 print this help

The config file is TOML; config.example.toml explains every key. The systemd
service reads /etc/kith/kith.toml and keeps its state in /var/lib/kith.

As a daemon kith syncs at start, then every "interval", and within seconds of
a change in a watched vdir or scans folder. SIGHUP reloads the config (a
broken one is logged and the running one kept); SIGTERM or Ctrl-C stops it
cleanly. Only one kith process at a time works on a state folder: --once
waits for a running daemon's sync (see --wait) and then gives up.

Exit codes:
  0  done; every source was read and every target written
  1  nothing was synced: bad config, state folder busy, unreadable state
  2  kith ran, but a source or target failed (or, for check, something is wrong)

Options:
`

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// gcPercent is the collector's GOGC unless GOGC sets another: the heap
// grows to 1.5 times what is live before a collection, not twice. A first
// run of 20,000 cards peaks at about 210 MB with it, 255 MB without. (A
// soft memory limit of 180 MB, kith's setting before, kept that run at
// 200 MB too, but a book whose live heap is beyond the limit, 100,000
// cards, was matched at half the speed: the collector then ran without
// pause. GOMEMLIMIT still sets one.)
const gcPercent = 50

// run is main without the exit, so that tests can call it.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		if args[0] == "check" {
			return runCheck(args[1:], stdout, stderr, getenv)
		}
		if args[0] == "passwd" {
			return runPasswd(args[1:], os.Stdin, stdout, stderr)
		}
		if cmd, ok := commands[args[0]]; ok {
			return runCommand(args[0], cmd, args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("kith", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Run kith --help for usage.") }
	configPath := fs.String("config", "", "configuration `file` (TOML); see config.example.toml")
	once := fs.Bool("once", false, "sync once and exit (0: complete, 1: failed, 2: ran but a source or target failed)")
	wait := fs.Duration("wait", daemon.DefaultLockWait, "how long to wait while another kith process (the daemon) works on the state folder")
	demoDir := fs.String("demo-dir", defaultDemoDir(), "`folder` for the demo run without --config")
	showVersion := fs.Bool("version", false, "print the version and exit")
	dryRun := fs.Bool("dry-run", false, "with --once: print what the sync would change and write nothing")
	allowShrink := fs.Bool("allow-shrink", false, "with --once: apply sources that lost more than max_shrink of their contacts, and targets that lost more than max_shrink of their cards (you confirm the loss is real)")
	if wantsHelp(args) {
		// Asked for, help goes to stdout (kith --help | less); after a
		// mistake, to stderr with the error.
		fs.SetOutput(stdout)
		fs.Usage = func() {
			fmt.Fprint(stdout, usage)
			fs.PrintDefaults()
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if *showVersion {
		fmt.Fprintln(stdout, version())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kith: unexpected argument %q (see kith --help)\n", fs.Arg(0))
		return 1
	}
	journald := daemon.UnderSystemd(getenv)
	level := new(slog.LevelVar)
	log := daemon.NewLogger(stderr, level, journald)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{}, 1)
	stopSignals := handleSignals(cancel, reload, log)
	defer stopSignals()

	if !*once && *configPath != "" {
		opts := []daemon.Option{
			daemon.WithReload(reload), daemon.WithLevel(level), daemon.WithLockWait(*wait),
			daemon.WithNotifier(daemon.NewNotifier(getenv, os.Getpid())),
		}
		if !journald && isTerminal(stderr) {
			opts = append(opts, daemon.WithProgress(stderr))
		}
		err := daemon.Serve(ctx, *configPath, log, opts...)
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil // stopped by a signal while starting (waiting for the lock)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kith: %v\n", err)
			return 1
		}
		return 0
	}

	var cfg *daemon.Config
	var err error
	if *configPath == "" {
		cfg, err = demoConfig(*demoDir)
	} else {
		cfg, err = daemon.LoadConfig(*configPath)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 1
	}
	if l, err := daemon.ParseLevel(cfg.LogLevel); err == nil {
		level.Set(l)
	}
	opts := []daemon.Option{daemon.WithLockWait(*wait)}
	if *dryRun {
		opts = append(opts, daemon.WithDryRun(stdout))
	}
	if *allowShrink {
		opts = append(opts, daemon.WithAllowShrink())
	}
	if op := getenv(daemon.CrashEnv); op != "" {
		opts = append(opts, daemon.WithCrashAfter(op))
	}
	if !journald && isTerminal(stderr) {
		opts = append(opts, daemon.WithProgress(stderr))
	}
	sum, err := daemon.Once(ctx, cfg, log, opts...)
	if sum != nil {
		fmt.Fprintf(stdout, "kith: %s\n", sum)
		if *configPath == "" {
			fmt.Fprintf(stdout, "kith: demo data in %s; merged cards in %s; report in %s\n",
				*demoDir, filepath.Join(*demoDir, "merged"), filepath.Join(cfg.Report.Dir, "report.json"))
		}
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, daemon.ErrIncomplete):
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "kith: %v\n", err)
		return 1
	}
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// handleSignals is kith's one signal loop: SIGHUP asks for a config reload
// (coalesced: a reload already asked for is not asked twice), SIGTERM and
// SIGINT cancel the run. The returned function stops the loop and waits for
// it.
func handleSignals(cancel context.CancelFunc, reload chan<- struct{}, log *slog.Logger) func() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					log.Info("SIGHUP: reloading the config")
					select {
					case reload <- struct{}{}:
					default:
					}
					continue
				}
				log.Info("signal: stopping", "signal", sig.String())
				cancel()
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(quit)
		<-done
	}
}

func runCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("kith check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kith check [--config FILE]\n\n"+
			"Validates the config, reads every source and lists every target, and says what\n"+
			"it found (cards, files) or exactly what is wrong. Changes nothing but creating a\n"+
			"missing target folder. Exit code 0 when all is well, 1 when the config is\n"+
			"invalid, 2 when a source, target or card could not be read.\n\nOptions:\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", defaultConfig, "configuration `file` (TOML)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	level := new(slog.LevelVar)
	level.Set(slog.LevelError) // check reports what it finds itself
	log := daemon.NewLogger(stderr, level, daemon.UnderSystemd(getenv))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := daemon.Check(ctx, *configPath, stdout, log)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, daemon.ErrProblems):
		fmt.Fprintf(stderr, "kith check: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "kith check: %v\n", err)
		return 1
	}
}

// version describes the build: module version, VCS revision and time.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "kith (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	parts := []string{"kith " + v}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		r := "revision " + rev
		if when != "" {
			r += " (" + when + ")"
		}
		if modified {
			r += " with local changes"
		}
		parts = append(parts, r)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, ", ")
}

// isTerminal reports whether w is a terminal, where progress lines help.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func defaultDemoDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kith", "demo")
	}
	return filepath.Join(os.TempDir(), "kith-demo")
}

// demoConfig lays out the bundled example data in dir and returns the config that syncs it.
func demoConfig(dir string) (*daemon.Config, error) {
	if err := demo.Extract(dir); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg, err := daemon.ParseConfig([]byte(demo.Config(dir)), dir)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.CheckPaths()
}
