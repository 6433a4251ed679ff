package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kith/internal/davtest"
)

// kithBin is the binary built once for all tests.
var kithBin string

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests mostly wait for the daemon: run more of them at once than
	// there are CPUs, unless -parallel says otherwise.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kith-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kithBin = filepath.Join(dir, "kith")
	build := exec.Command("go", "build", "-o", kithBin, "kith")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kith:", err)
		return 1
	}
	return m.Run()
}

// deadline is how long any awaited thing may take: a bound on a hang, not a
// speed check; under -race on a busy 2-core machine a 1,000-card first sync
// has taken over 20s.
const deadline = 2 * time.Minute

// syncBuffer collects a process's output while it runs.
type syncBuffer = davtest.LockedBuffer

// setup is a config with a vdir source "book", a scans source "scans" and a
// vdir target "people" in a temp folder.
type setup struct {
	dir, config string
	env         []string
}

const configText = `state_dir = "state"
default_region = "DE"
interval = "1m"
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

func newSetup(t *testing.T, scans int) *setup {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"book", "scans", "people"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "book", "ada.vcf"), card("Ada", "Lovelace"))
	for i := range scans {
		writeFile(t, filepath.Join(dir, "scans", fmt.Sprintf("c%04d.vcf", i)), card(firstNames[i%len(firstNames)], fmt.Sprintf("Family%04d", i)))
	}
	s := &setup{dir: dir, config: filepath.Join(dir, "kith.toml")}
	writeFile(t, s.config, configText)
	return s
}

var firstNames = []string{"Anna", "Bernd", "Clara", "Dieter", "Eva", "Felix", "Greta", "Hans"}

func card(given, family string) string {
	return fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:%s %s\r\nN:%s;%s;;;\r\nEMAIL:%s.%s@example.org\r\nEND:VCARD\r\n",
		given, family, family, given, strings.ToLower(given), strings.ToLower(family))
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *setup) path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// targetNames returns the FN of every card in the target, one entry a card.
func (s *setup) targetNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(s.path("people", "*.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // replaced while listing
		}
		if m := regexp.MustCompile(`(?m)^FN:(.*?)\r?$`).FindSubmatch(b); m != nil {
			names = append(names, string(m[1]))
		}
	}
	return names
}

// wantTarget checks that the target holds exactly the cards named, each once.
func (s *setup) wantTarget(t *testing.T, want ...string) {
	t.Helper()
	got := map[string]int{}
	for _, n := range s.targetNames(t) {
		got[n]++
	}
	for n, c := range got {
		if c > 1 {
			t.Errorf("target has %d cards for %q, want 1", c, n)
		}
	}
	for _, n := range want {
		if got[n] == 0 {
			t.Errorf("target lacks %q", n)
		}
		delete(got, n)
	}
	for n := range got {
		t.Errorf("target has unexpected card %q", n)
	}
}

// allNames is every card newSetup(t, n) puts in the sources.
func allNames(n int) []string {
	names := []string{"Ada Lovelace"}
	for i := range n {
		names = append(names, fmt.Sprintf("%s Family%04d", firstNames[i%len(firstNames)], i))
	}
	return names
}

// proc is a running kith daemon.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer // stdout and stderr
	notify chan string
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// start runs the kith daemon on s's config with a notify socket.
func (s *setup) start(t *testing.T, extraEnv ...string) *proc {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{out: &syncBuffer{}, notify: make(chan string, 1000), exited: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			p.notify <- string(buf[:n])
		}
	}()
	p.cmd = exec.Command(kithBin, "--config", s.config)
	p.cmd.Env = append(append(os.Environ(), "NOTIFY_SOCKET="+sock), extraEnv...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		conn.Close()
		if t.Failed() {
			t.Logf("kith daemon output:\n%s", p.out)
		}
	})
	return p
}

// waitNotify waits for a notify message holding line and returns it.
func (p *proc) waitNotify(t *testing.T, line string) string {
	t.Helper()
	timeout := time.After(deadline)
	exited := p.exited
	for {
		select {
		case m := <-p.notify:
			for _, l := range strings.Split(m, "\n") {
				if strings.HasPrefix(l, line) {
					return m
				}
			}
		case <-exited:
			// Messages sent before the exit may still be on their way
			// from the socket.
			exited = nil
			timeout = time.After(2 * time.Second)
		case <-timeout:
			if exited == nil {
				t.Fatalf("daemon exited (%v) without notify %q", p.err, line)
			}
			t.Fatalf("no notify %q within %s", line, deadline)
		}
	}
}

// waitLog waits until the output has n occurrences of s.
func (p *proc) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("log line %q ×%d", s, n), func() bool { return strings.Count(p.out.String(), s) >= n })
}

// stop sends sig and waits for the exit.
func (p *proc) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(deadline):
		t.Fatalf("daemon still running %s after %v", deadline, sig)
		return nil
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, deadline)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// runKith runs kith with args to the end and returns its output and exit code.
func runKith(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(kithBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func TestCardDroppedIntoScanFolderIsSynced(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 0)
	p := s.start(t)
	p.waitNotify(t, "READY=1")
	if st := p.waitNotify(t, "STATUS=2 sources"); !strings.Contains(st, "1 contacts") {
		t.Errorf("status %q, want the first sync's summary", st)
	}
	s.wantTarget(t, "Ada Lovelace")

	os.MkdirAll(s.path("scans", "2026", "11"), 0o700)
	writeFile(t, s.path("scans", "2026", "11", "grace.vcf"), card("Grace", "Hopper"))
	eventually(t, "dropped card in the target", func() bool { return len(s.targetNames(t)) == 2 })
	s.wantTarget(t, "Ada Lovelace", "Grace Hopper")
	p.waitNotify(t, "STATUS=2 sources, 2 records, 2 contacts")

	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0", err)
	}
	p.waitNotify(t, "STOPPING=1")
	out := p.out.String()
	if done, started := strings.Count(out, `msg="sync done"`), strings.Count(out, `msg="sync starting"`); done != started || done < 2 {
		t.Errorf("%d summary lines for %d syncs, want one per sync (and at least 2)", done, started)
	}
}

func TestHalfWrittenCardIsNotReadHalf(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 0)
	p := s.start(t)
	p.waitNotify(t, "STATUS=2 sources")

	c := card("Grace", "Hopper")
	f, err := os.Create(s.path("scans", "grace.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(c[:len(c)/2])
	// The daemon has seen the file, waited for it to go quiet, and found
	// it unfinished.
	p.waitLog(t, "does not end with END:VCARD yet", 1)
	f.WriteString(c[len(c)/2:])
	eventually(t, "finished card in the target", func() bool { return len(s.targetNames(t)) == 2 })
	s.wantTarget(t, "Ada Lovelace", "Grace Hopper")
	if out := p.out.String(); strings.Contains(out, "skipped") || strings.Contains(out, "incomplete") {
		t.Errorf("the half-written card was read:\n%s", out)
	}
}

func TestSIGHUPWithBrokenConfigKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 0)
	p := s.start(t)
	p.waitNotify(t, "STATUS=2 sources")

	writeFile(t, s.config, strings.Replace(configText, `interval = "1m"`, `interval = "soon"`, 1))
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "config reload failed; keeping the running config", 1)
	p.waitNotify(t, "RELOADING=1")
	p.waitNotify(t, "READY=1")

	writeFile(t, s.path("scans", "grace.vcf"), card("Grace", "Hopper"))
	eventually(t, "card synced after the broken reload", func() bool { return len(s.targetNames(t)) == 2 })

	// Fixed and reloaded: the new config (without the scans source) is used.
	writeFile(t, s.config, strings.Split(configText, "[[source]]\nname = \"scans\"")[0]+
		"[[target]]\nname = \"people\"\nkind = \"vdir\"\npath = \"people\"\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, `msg="config reloaded"`, 1)
	eventually(t, "scanned card gone with its source", func() bool { return len(s.targetNames(t)) == 1 })
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0", err)
	}
}

// interruptMidSync starts the daemon on many cards, sends sig once the first
// sync is writing the target, then checks that --once (and, after SIGKILL,
// a restarted daemon) leaves exactly the source cards in the target.
func interruptMidSync(t *testing.T, sig syscall.Signal) {
	const n = 1000 // enough that the kill lands mid-write, batched as writes are
	s := newSetup(t, n)
	p := s.start(t)
	p.waitLog(t, `msg="sync starting"`, 1)
	eventually(t, "first sync writing the target", func() bool { return len(s.targetNames(t)) >= 20 })
	err := p.stop(t, sig)
	if sig == syscall.SIGKILL {
		if err == nil {
			t.Fatal("kill -9 gave exit 0")
		}
		written := len(s.targetNames(t))
		if written >= n+1 {
			t.Skipf("the first sync finished (%d cards) before the kill; nothing to test", written)
		}
		// Restart the daemon: it must take over what the killed one left.
		p2 := s.start(t)
		if st := p2.waitNotify(t, "STATUS=2 sources"); !strings.Contains(st, fmt.Sprintf(" %d contacts", n+1)) {
			t.Errorf("restarted daemon's first sync: %q, want %d contacts", st, n+1)
		}
		if err := p2.stop(t, syscall.SIGTERM); err != nil {
			t.Fatalf("restarted daemon exit: %v", err)
		}
	} else {
		if err != nil {
			t.Fatalf("exit after %v: %v, want 0", sig, err)
		}
		if out := p.out.String(); !strings.Contains(out, `msg=stopped`) {
			t.Errorf("no clean stop logged")
		}
	}
	out, code := runKith(t, nil, "--config", s.config, "--once", "--wait", "5s")
	if code != 0 {
		t.Fatalf("--once after %v: exit %d\n%s", sig, code, out)
	}
	s.wantTarget(t, allNames(n)...)
	// And nothing more to do: a second --once writes nothing.
	out, code = runKith(t, nil, "--config", s.config, "--once")
	if code != 0 || !strings.Contains(out, "0 cards written") {
		t.Errorf("second --once: exit %d, want 0 cards written:\n%s", code, out)
	}
}

func TestSIGTERMMidSyncLeavesAConsistentState(t *testing.T) {
	t.Parallel()
	interruptMidSync(t, syscall.SIGTERM)
}

func TestKill9MidSyncLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	interruptMidSync(t, syscall.SIGKILL)
}

func TestOnceWhileDaemonRunsNamesTheDaemon(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 0)
	p := s.start(t)
	p.waitNotify(t, "READY=1")
	start := time.Now()
	out, code := runKith(t, nil, "--config", s.config, "--once", "--wait", "1s")
	if code != 1 {
		t.Errorf("--once while the daemon runs: exit %d, want 1", code)
	}
	want := fmt.Sprintf("the kith daemon (pid %d) holds %s; stop it or wait", p.cmd.Process.Pid, s.path("state"))
	if !strings.Contains(out, want) {
		t.Errorf("--once said:\n%s\nwant %q", out, want)
	}
	if time.Since(start) < time.Second {
		t.Errorf("--once gave up before its --wait of 1s")
	}
}

func TestSecretNeverInOutput(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-e2e-Zq8xV"
	var sawSecret atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); ok && pw == secret {
			sawSecret.Store(true)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="kith test"`)
		http.Error(w, "wrong password", http.StatusUnauthorized)
	}))
	defer srv.Close()

	s := newSetup(t, 0)
	writeFile(t, s.path("password"), secret+"\n")
	cfg := strings.Replace(configText, "[[target]]", fmt.Sprintf(`[[source]]
name = "dav"
kind = "carddav"
url = "%s/dav/"
username = "ada"
password_env = "KITH_E2E_PASSWORD"

[[source]]
name = "nowhere"
kind = "carddav"
url = "http://127.0.0.1:1/dav/"
username = "ada"
password_file = "password"

[[target]]`, srv.URL), 1)
	writeFile(t, s.config, cfg)
	env := []string{"KITH_E2E_PASSWORD=" + secret}
	var outputs []string

	// The daemon, its CardDAV sources failing on every sync.
	p := s.start(t, env...)
	if st := p.waitNotify(t, "STATUS=4 sources"); !strings.Contains(st, "2 errors") {
		t.Errorf("status %q, want both CardDAV sources failed", st)
	}
	p.stop(t, syscall.SIGTERM)
	outputs = append(outputs, p.out.String())

	out, code := runKith(t, env, "--config", s.config, "--once")
	if code != 2 {
		t.Errorf("--once with failing sources: exit %d, want 2\n%s", code, out)
	}
	outputs = append(outputs, out)
	out, code = runKith(t, env, "check", "--config", s.config)
	if code != 2 {
		t.Errorf("check with failing sources: exit %d, want 2\n%s", code, out)
	}
	outputs = append(outputs, out)
	writeFile(t, s.config, cfg+"\nbogus = \""+secret+"\"\n")
	out, _ = runKith(t, env, "--config", s.config, "--once")
	outputs = append(outputs, out)

	if !sawSecret.Load() {
		t.Error("the server never got the password: the test proves nothing")
	}
	for i, o := range outputs {
		if strings.Contains(o, secret) || strings.Contains(o, "hunter2") {
			t.Errorf("output %d shows the password:\n%s", i, o)
		}
	}
}

func TestCheckSaysWhatItFound(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 3)
	writeFile(t, s.path("scans", "broken.vcf"), "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n")
	out, code := runKith(t, nil, "check", "--config", s.config)
	if code != 2 {
		t.Errorf("check with a broken card: exit %d, want 2", code)
	}
	for _, want := range []string{
		"config " + s.config + ": valid: 2 sources, 1 target",
		`source "book" (vdir ` + s.path("book") + `): 1 file, 1 card, 0 unreadable`,
		`source "scans" (scans ` + s.path("scans") + `): 4 files, 3 cards, 1 unreadable`,
		"broken.vcf: incomplete",
		`target "people" (vdir ` + s.path("people") + `): 0 cards`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	os.Remove(s.path("scans", "broken.vcf"))
	if out, code := runKith(t, nil, "check", "--config", s.config); code != 0 || !strings.Contains(out, "everything looks fine") {
		t.Errorf("check on a good setup: exit %d\n%s", code, out)
	}
	writeFile(t, s.config, strings.Replace(configText, `kind = "scans"`, `kind = "scan"`, 1))
	out, code = runKith(t, nil, "check", "--config", s.config)
	if code != 1 || !strings.Contains(out, `source "scans".kind: "scan" is not one of`) {
		t.Errorf("check on a bad config: exit %d, want 1 and the key named:\n%s", code, out)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	out, code := runKith(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "kith ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	out, code = runKith(t, nil, "--help")
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	for _, want := range []string{"kith check", "--once", "/etc/kith/kith.toml", "Exit codes:", "SIGHUP"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// A state database that was emptied (a full disk, a failed copy) is
// refused, by a sync and by kith check, and nothing is written: taking it
// for a first run would bring back the card the user deleted.
func TestEmptiedStateIsRefusedNotStartedAfresh(t *testing.T) {
	t.Parallel()
	s := newSetup(t, 2)
	if out, code := runKith(t, nil, "--once", "--config", s.config); code != 0 {
		t.Fatalf("first sync: exit %d\n%s", code, out)
	}
	files, _ := filepath.Glob(s.path("people", "*.vcf"))
	if len(files) != 3 {
		t.Fatalf("%d cards on the target, want 3", len(files))
	}
	if err := os.Remove(files[0]); err != nil { // the user deletes a card
		t.Fatal(err)
	}
	if out, code := runKith(t, nil, "--once", "--config", s.config); code != 0 {
		t.Fatalf("sync after the delete: exit %d\n%s", code, out)
	}
	for _, f := range []string{"kith.db-wal", "kith.db-shm"} {
		os.Remove(s.path("state", f))
	}
	if err := os.Truncate(s.path("state", "kith.db"), 0); err != nil {
		t.Fatal(err)
	}
	out, code := runKith(t, nil, "--once", "--config", s.config)
	if code == 0 || !strings.Contains(out, "is empty (0 bytes)") {
		t.Errorf("sync over an emptied state: exit %d, want a refusal naming it\n%s", code, out)
	}
	if got, _ := filepath.Glob(s.path("people", "*.vcf")); len(got) != 2 {
		t.Errorf("%d cards on the target after the refused sync, want the 2 the user kept", len(got))
	}
	out, code = runKith(t, nil, "check", "--config", s.config)
	if code != 2 || !strings.Contains(out, "kith.db is empty (0 bytes)") || strings.Contains(out, "everything looks fine") {
		t.Errorf("check over an emptied state: exit %d, want 2 and the state named\n%s", code, out)
	}
}
