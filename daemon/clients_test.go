package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davserver"
	"kith/internal/state"
)

// phone is a CardDAV client (as a phone's contacts app) on the embedded
// server's book, served from the config's state database.
type phone struct {
	t    *testing.T
	url  string // the book, ending in "/"
	book interface {
		List(context.Context) (map[string]string, error)
	}
}

// newPhone adds [server] to cfg (users file in dir), serves the book on a
// test server and returns a client logged in to it.
func newPhone(t *testing.T, cfg *Config, dir string) *phone {
	t.Helper()
	cfg.Server = &ServerConfig{Listen: DefaultListen, UsersFile: filepath.Join(dir, "users")}
	if err := davserver.SetPassword(cfg.Server.UsersFile, "anna", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := davserver.New(davserver.Options{DB: st.DB(), UsersFile: cfg.Server.UsersFile})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &phone{t: t, url: ts.URL + "/dav/anna/contacts/people/", book: srv.Target(ServerTarget)}
}

// do sends one request for the card name and returns the status, the ETag
// and the body.
func (p *phone) do(method, name string, hdr http.Header, body string) (int, string, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.url+name, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/vcard; charset=utf-8")
	}
	req.SetBasicAuth("anna", "correct horse")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// cards returns every card of the book as a client GETs it, by name.
func (p *phone) cards() map[string]string {
	p.t.Helper()
	list, err := p.book.List(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string]string{}
	for name := range list {
		if code, _, body := p.do("GET", name, nil, ""); code == http.StatusOK {
			out[name] = body
		}
	}
	return out
}

// khard returns a function running the real khard on the vdir in dir, with
// a config of its own. The test is skipped when khard is not installed,
// except in CI, where it must run.
func khard(t *testing.T, dir string) func(stdin string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("khard")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("khard not installed (Debian package khard): %v", err)
		}
		t.Skipf("khard not installed (Debian package khard): %v", err)
	}
	home := t.TempDir()
	conf := filepath.Join(home, "khard.conf")
	config := "[addressbooks]\n[[kith]]\npath = " + dir + "\n[general]\ndefault_action = list\neditor = /bin/false\nmerge_editor = /bin/false\n[vcard]\npreferred_version = 3.0\n"
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"-c", conf}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "EDITOR=/bin/false", "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("khard %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}
