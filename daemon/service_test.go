package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"kith/internal/davtest"
)

// syncBuffer is a buffer safe for the daemon's goroutines.
type syncBuffer = davtest.LockedBuffer

// daemonSetup writes a config with a vdir source, a scans source and a
// vdir target under a temp folder and returns the config's path and folder.
func daemonSetup(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"book", "scans", "people"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "book", "ada.vcf"), []byte(testCard), 0o600)
	path := filepath.Join(dir, "kith.toml")
	os.WriteFile(path, []byte(daemonConfig), 0o600)
	return path, dir
}

const daemonConfig = `state_dir = "state"
interval = "1h"
log_level = "debug"

[[source]]
name = "book"
kind = "vdir"
path = "book"

[[source]]
name = "scans"
kind = "scans"
path = "scans"

[[target]]
name = "people"
kind = "vdir"
path = "people"
`

// runServe runs Serve until the test ends and returns its log and a channel
// of the notify messages it sent.
func runServe(t *testing.T, configPath string, opts ...Option) (*syncBuffer, <-chan string, func() error) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify")
	conn := listenNotify(t, sock)
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	logs := &syncBuffer{}
	log := NewLogger(logs, new(slog.LevelVar), false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opts = append([]Option{
		WithNotifier(NewNotifier(env(map[string]string{"NOTIFY_SOCKET": sock}), 1)),
		func(o *options) { o.timing = fastTiming },
	}, opts...)
	go func() { done <- Serve(ctx, configPath, log, opts...) }()
	var once gosync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = errors.New("Serve did not return 20s after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
	})
	return logs, msgs, stop
}

// waitMsg waits for a notify message starting with prefix and returns it.
func waitMsg(t *testing.T, msgs <-chan string, prefix string) string {
	t.Helper()
	// A generous deadline: under -race on a busy 2-core machine the first
	// sync alone has taken over 10s. It bounds a hang, it measures nothing.
	deadline := time.After(time.Minute)
	for {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, prefix) || strings.Contains(m, "\n"+prefix) {
				return m
			}
		case <-deadline:
			t.Fatalf("no notify message %q within a minute", prefix)
		}
	}
}

// eventually polls cond until it holds or a minute passes (a bound on a
// hang on a busy machine, not a speed check).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countVCF(dir string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".vcf") {
			n++
		}
	}
	return n
}

func TestServeSyncsAtStartAndOnFolderChange(t *testing.T) {
	cfgPath, dir := daemonSetup(t)
	logs, msgs, stop := runServe(t, cfgPath)
	waitMsg(t, msgs, "READY=1")
	status := waitMsg(t, msgs, "STATUS=2 sources")
	if !strings.Contains(status, "1 contacts") {
		t.Errorf("status %q, want the first sync's summary", status)
	}
	people := filepath.Join(dir, "people")
	eventually(t, "card from the vdir in the target", func() bool { return countVCF(people) == 1 })

	card := strings.Replace(testCard, "Ada Lovelace", "Grace Hopper", 1)
	card = strings.Replace(card, "Lovelace;Ada", "Hopper;Grace", 1)
	os.MkdirAll(filepath.Join(dir, "scans", "2026"), 0o700)
	os.WriteFile(filepath.Join(dir, "scans", "2026", "grace.vcf"), []byte(card), 0o600)
	eventually(t, "scanned card in the target", func() bool { return countVCF(people) == 2 })
	waitMsg(t, msgs, "STATUS=2 sources, 2 records, 2 contacts")

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, msgs, "STOPPING=1")
	if n := strings.Count(logs.String(), `msg="sync done"`); n < 2 {
		t.Errorf("%d summary lines, want one per sync (>= 2)", n)
	}
	// The lock is gone with the daemon.
	l, err := AcquireLock(context.Background(), filepath.Join(dir, "state"), "once", 0)
	if err != nil {
		t.Fatalf("lock after shutdown: %v", err)
	}
	l.Release()
}

func TestServeKeepsRunningOnABrokenReload(t *testing.T) {
	cfgPath, dir := daemonSetup(t)
	reload := make(chan struct{}, 1)
	logs, msgs, _ := runServe(t, cfgPath, WithReload(reload))
	waitMsg(t, msgs, "STATUS=2 sources")

	os.WriteFile(cfgPath, []byte("interval = \"soon\"\n"+daemonConfig[strings.Index(daemonConfig, "\n")+1:]), 0o600)
	reload <- struct{}{}
	waitMsg(t, msgs, "RELOADING=1")
	waitMsg(t, msgs, "READY=1")
	if !strings.Contains(logs.String(), "config reload failed; keeping the running config") {
		t.Fatalf("log does not say the old config is kept:\n%s", logs)
	}
	os.WriteFile(filepath.Join(dir, "scans", "grace.vcf"),
		[]byte(strings.NewReplacer("Ada Lovelace", "Grace Hopper", "Lovelace;Ada", "Hopper;Grace").Replace(testCard)), 0o600)
	eventually(t, "sync on the old config after a broken reload", func() bool { return countVCF(filepath.Join(dir, "people")) == 2 })

	// A good config is swapped in: the scans source is dropped.
	os.WriteFile(cfgPath, []byte(daemonConfig[:strings.Index(daemonConfig, "[[source]]\nname = \"scans\"")]+
		"[[target]]\nname = \"people\"\nkind = \"vdir\"\npath = \"people\"\n"), 0o600)
	reload <- struct{}{}
	eventually(t, "reloaded config in use", func() bool { return strings.Contains(logs.String(), `msg="config reloaded"`) })
	eventually(t, "scanned card gone with its source", func() bool { return countVCF(filepath.Join(dir, "people")) == 1 })
}

func TestOnceWhileServeRunsSaysWhoHoldsTheLock(t *testing.T) {
	cfgPath, dir := daemonSetup(t)
	_, msgs, _ := runServe(t, cfgPath)
	waitMsg(t, msgs, "READY=1")
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Once(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithLockWait(100*time.Millisecond))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "the kith daemon (pid") ||
		!strings.Contains(err.Error(), filepath.Join(dir, "state")) {
		t.Fatalf("Once while the daemon runs: %v, want it to name the daemon and the state folder", err)
	}
}

func TestServeRetriesWithBackoff(t *testing.T) {
	s := &server{cfg: &Config{Interval: Duration{time.Hour}}, opts: options{retryMin: 10 * time.Second}}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {10, time.Hour}, {100, time.Hour}} {
		s.failures = tc.failures
		if got := s.delay(); got != tc.want {
			t.Errorf("delay after %d failures = %s, want %s", tc.failures, got, tc.want)
		}
	}
	s.failures = 0
	for range 100 {
		if d := s.delay(); d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("delay %s is outside interval ±10%%", d)
		}
	}
}

func TestServePingsTheWatchdog(t *testing.T) {
	cfgPath, _ := daemonSetup(t)
	sock := filepath.Join(t.TempDir(), "notify")
	conn := listenNotify(t, sock)
	n := NewNotifier(env(map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "100000"}), 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfgPath, slog.New(slog.DiscardHandler), WithNotifier(n)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for got := ""; got != "WATCHDOG=1"; {
		got = readNotify(t, conn)
	}
}
