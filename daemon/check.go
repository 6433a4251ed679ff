package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"kith/internal/state"
	"kith/sources/carddav"
	ksync "kith/sync"
)

// ErrProblems is returned by Check when the config is valid but a source,
// a target or some of their items could not be read.
var ErrProblems = errors.New("problems found")

// Check loads the config at configPath, builds every source and target it
// names, reads each source once and lists each target, and writes to w
// what it found. It changes nothing but creating missing target folders.
// The error is the config's when it does not load, and wraps ErrProblems
// when anything else is wrong (each problem is written to w).
func Check(ctx context.Context, configPath string, w io.Writer, log *slog.Logger) error {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "config %s: valid: %s, %s, sync every %s\n",
		configPath, plural(len(cfg.Sources), "source"), plural(len(cfg.Targets), "target"), cfg.Interval.Duration)
	problems := 0
	status, ok := stateStatus(ctx, cfg.StateDir)
	if !ok {
		problems++
	}
	fmt.Fprintf(w, "state %s: %s\n", cfg.StateDir, status)
	r, err := NewRunner(cfg, log)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProblems, err)
	}
	for i, src := range r.sources {
		sc := cfg.Sources[i]
		where := fmt.Sprintf("source %q (%s %s)", sc.Name, sc.Kind, location(sc.Path, sc.URL))
		files := ""
		if n, err := countFiles(sc.Path); err == nil {
			files = plural(n, "file") + ", "
		}
		snap, err := src.Read(ctx, "")
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			problems++
			fmt.Fprintf(w, "%s: FAILED: %v\n", where, err)
			printBooks(w, src)
			continue
		}
		fmt.Fprintf(w, "%s: %s%s, %d unreadable\n", where, files, plural(len(snap.Records), "card"), len(snap.Problems))
		for _, p := range snap.Problems {
			problems++
			fmt.Fprintf(w, "  %s: %v\n", p.ID, p.Err)
		}
		printBooks(w, src)
	}
	for i, t := range r.targets {
		tc := cfg.Targets[i]
		where := fmt.Sprintf("target %q (%s %s)", tc.Name, tc.Kind, location(tc.Path, tc.URL))
		entries, err := t.List(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			problems++
			fmt.Fprintf(w, "%s: FAILED: %v\n", where, err)
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", where, plural(len(entries), "card"))
	}
	if problems > 0 {
		return fmt.Errorf("%w: %d (listed above)", ErrProblems, problems)
	}
	fmt.Fprintln(w, "everything looks fine")
	return nil
}

// location is where a source or target is: its folder, or its URL.
func location(path, url string) string {
	if path != "" {
		return path
	}
	return url
}

// printBooks writes which address books a CardDAV source reads and which
// it skips, and why.
func printBooks(w io.Writer, src ksync.Source) {
	cs, ok := src.(*carddav.Source)
	if !ok {
		return
	}
	for _, b := range cs.Books() {
		name := ""
		if b.Name != "" {
			name = fmt.Sprintf(" %q", b.Name)
		}
		if b.Skipped != "" {
			fmt.Fprintf(w, "  skips %s%s: %s\n", b.URL, name, b.Skipped)
		} else {
			fmt.Fprintf(w, "  reads %s%s\n", b.URL, name)
		}
	}
}

// stateStatus describes the state folder without changing it: the
// database is opened read-write, as a sync would, and checked
// (state.Inspect). ok is false when the state is one a sync would refuse or
// fail on.
func stateStatus(ctx context.Context, dir string) (status string, ok bool) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "does not exist yet; the first sync creates it", true
		}
		return "FAILED: " + err.Error(), false
	}
	var parts []string
	h, err := state.Inspect(ctx, dir)
	switch {
	case errors.Is(err, state.ErrNoDatabase):
		parts = append(parts, "no state database yet")
	case err != nil:
		return "FAILED: " + err.Error(), false
	default:
		parts = append(parts, "has a state database ("+h.String()+")")
	}
	if holder := lockHolder(dir); holder != "" {
		parts = append(parts, "in use by "+holder)
	}
	return strings.Join(parts, ", "), true
}

// lockHolder names the process holding the state folder's lock, or returns
// "" when none does. It tests the lock with a shared flock and writes
// nothing.
func lockHolder(dir string) string {
	path := filepath.Join(dir, LockFileName)
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return readHolder(path)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return ""
}

// countFiles counts the card and CSV files under dir that a source reads.
func countFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && skipTemp(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			switch strings.ToLower(filepath.Ext(p)) {
			case ".vcf", ".vcard", ".csv":
				n++
			}
		}
		return nil
	})
	return n, err
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
