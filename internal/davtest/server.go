package davtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// Server is a CardDAV server running for one test.
type Server struct {
	// Kind is "radicale", "xandikos" or "sabre".
	Kind string
	// URL is the server's root, e.g. http://127.0.0.1:41234 (no slash).
	URL string
	// Username and Password are the credentials it accepts (Xandikos has
	// no authentication: any are accepted).
	Username, Password string
	// Home is the path of the user's address book home set, ending in "/".
	Home string
	// Dir is the server's storage folder.
	Dir string
	// Auth is the login scheme the server asks for: "basic", "digest",
	// or "" for none.
	Auth string

	// env is added to the server's environment.
	env []string
}

// startTimeout bounds the wait for a server to accept connections.
const startTimeout = 30 * time.Second

// need returns the path of program or skips (fails under CI=true) t.
func need(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (Debian package %s) and CI=true", program, program)
		}
		t.Skipf("%s not installed (Debian package %s)", program, program)
	}
	return p
}

// StartRadicale starts Radicale with htpasswd (plain) authentication for
// user "kith" and stops it when the test ends.
func StartRadicale(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "radicale")
	dir := t.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte("kith:s3cret pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{Kind: "radicale", Username: "kith", Password: "s3cret pw", Home: "/kith/", Dir: filepath.Join(dir, "storage"), Auth: "basic"}
	start(t, s, bin, func(port string) []string {
		return []string{"--config", cfg,
			"--storage-filesystem-folder", s.Dir,
			"--server-hosts", "127.0.0.1:" + port,
			"--auth-type", "htpasswd", "--auth-htpasswd-filename", pw, "--auth-htpasswd-encryption", "plain",
			"--auth-delay", "0",
			"--logging-level", "warning"}
	})
	return s
}

// StartXandikos starts Xandikos (which has no authentication) with its
// default principal /user/ and home set /user/contacts/, and stops it when
// the test ends. It holds one address book, /user/contacts/addressbook/.
func StartXandikos(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "xandikos")
	dir := t.TempDir()
	s := &Server{Kind: "xandikos", Username: "kith", Password: "unused", Home: "/user/contacts/", Dir: filepath.Join(dir, "storage")}
	start(t, s, bin, func(port string) []string {
		return []string{"-d", s.Dir, "-l", "127.0.0.1", "-p", port, "--defaults"}
	})
	return s
}

// startAttempts bounds the tries to start a server: the free port picked
// may be taken by another test before the server binds it.
const startAttempts = 5

// start runs the server on a free port and waits until it answers; it sets
// s.URL.
func start(t testing.TB, s *Server, bin string, args func(port string) []string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		s.URL = "http://127.0.0.1:" + port
		out, err := try(t, s, bin, args(port))
		if err == nil {
			return
		}
		if attempt < startAttempts && strings.Contains(out, "in use") {
			continue
		}
		t.Fatalf("%v:\n%s", err, out)
	}
}

// try starts the server once. On failure it returns the server's output.
func try(t testing.TB, s *Server, bin string, args []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	var out LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	// In a process group of its own, stopped whole: php -S forks workers
	// that would keep the output open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		cancel()
		return "", fmt.Errorf("starting %s: %w", s.Kind, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", s.Kind, quiet(out.String()))
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		req, _ := http.NewRequest("OPTIONS", s.URL+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			select {
			case <-done: // another program answered on the port
				return out.String(), fmt.Errorf("%s exited at start", s.Kind)
			default:
			}
			return "", nil
		}
		select {
		case <-done:
			return out.String(), fmt.Errorf("%s exited at start", s.Kind)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return out.String(), fmt.Errorf("%s did not answer within %s", s.Kind, startTimeout)
		}
	}
}

// quiet leaves out php -S's lines for each connection.
func quiet(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasSuffix(l, " Accepted") && !strings.HasSuffix(l, " Closing") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// LockedBuffer collects a process's or a logger's output while other
// goroutines write to it; String may be called at any time.
type LockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Do sends a request to the server (path relative to its root) with its
// credentials and returns the status, the ETag header and the body.
func (s *Server) Do(t testing.TB, method, path string, header http.Header, body string) (int, string, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// Client returns an HTTP client that logs in to the server.
func (s *Server) Client() *http.Client {
	switch s.Auth {
	case "digest":
		return &http.Client{Transport: &digest.Transport{Username: s.Username, Password: s.Password}}
	case "basic":
		return &http.Client{Transport: basicAuth{s.Username, s.Password}}
	}
	return http.DefaultClient
}

type basicAuth struct{ user, pass string }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.pass)
	return http.DefaultTransport.RoundTrip(r)
}

// MakeBook creates an address book named name in the home set, with
// display name display, and returns its path (ending in "/").
func (s *Server) MakeBook(t testing.TB, name, display string) string {
	t.Helper()
	p := s.Home + name + "/"
	body := `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>` + display + `</D:displayname></D:prop></D:set></D:mkcol>`
	if s.Kind == "radicale" {
		// Radicale makes the principal collection on the first request.
		s.Do(t, "PROPFIND", s.Home, http.Header{"Depth": {"0"}}, "")
	}
	code, _, resp := s.Do(t, "MKCOL", p, http.Header{"Content-Type": {"application/xml"}}, body)
	if code != http.StatusCreated {
		t.Fatalf("MKCOL %s: %d %s", p, code, resp)
	}
	return p
}

// MakeCalendar creates a calendar at path (ending in "/") with display name
// display ("" for none) for the components comps (VEVENT, VTODO…).
func (s *Server) MakeCalendar(t testing.TB, path, display string, comps ...string) {
	t.Helper()
	if s.Kind == "radicale" {
		// Radicale makes the principal collection on the first request.
		s.Do(t, "PROPFIND", s.Home, http.Header{"Depth": {"0"}}, "")
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>`)
	if display != "" {
		b.WriteString("<D:displayname>" + display + "</D:displayname>")
	}
	b.WriteString("<C:supported-calendar-component-set>")
	for _, c := range comps {
		b.WriteString(`<C:comp name="` + c + `"/>`)
	}
	b.WriteString("</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>")
	if code, _, resp := s.Do(t, "MKCALENDAR", path, http.Header{"Content-Type": {"application/xml"}}, b.String()); code != http.StatusCreated {
		t.Fatalf("MKCALENDAR %s: %d %s", path, code, resp)
	}
}

// PutCard stores a card at path unconditionally and returns its ETag.
func (s *Server) PutCard(t testing.TB, path, vcf string) string {
	t.Helper()
	code, etag, resp := s.Do(t, "PUT", path, http.Header{"Content-Type": {"text/vcard; charset=utf-8"}}, vcf)
	if code/100 != 2 {
		t.Fatalf("PUT %s: %d %s", path, code, resp)
	}
	return etag
}

// DeleteCard removes path unconditionally.
func (s *Server) DeleteCard(t testing.TB, path string) {
	t.Helper()
	code, _, resp := s.Do(t, "DELETE", path, nil, "")
	if code/100 != 2 {
		t.Fatalf("DELETE %s: %d %s", path, code, resp)
	}
}

// Card returns a small vCard 3.0 with uid and full name fn.
func Card(uid, fn string, extra ...string) string {
	lines := []string{"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:" + fn, "N:" + fn + ";;;;"}
	lines = append(lines, extra...)
	lines = append(lines, "END:VCARD", "")
	return strings.Join(lines, "\r\n")
}

// String describes the server for test names.
func (s *Server) String() string { return fmt.Sprintf("%s at %s", s.Kind, s.URL) }
