package davserver

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kith/internal/state"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
)

// fakeClock is a settable clock, so that backoff tests never sleep.
type fakeClock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testEnv struct {
	srv   *Server
	http  *httptest.Server
	clock *fakeClock
	store *state.Store
	users string
}

type envOption func(*Options)

// newEnv starts a server on a real temporary state database, behind a real
// listener on 127.0.0.1, with the user alice (bcrypt at minimum cost).
func newEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := state.Open(context.Background(), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	users := filepath.Join(dir, "users")
	if err := setPassword(users, testUser, []byte(testPassword), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	o := Options{DB: st.DB(), UsersFile: users, Now: clock.Now}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testEnv{srv: srv, http: hs, clock: clock, store: st, users: users}
}

// do sends a request as alice; hdr alternates header names and values.
func (e *testEnv) do(t testing.TB, method, path, body string, hdr ...string) *http.Response {
	t.Helper()
	return e.doAs(t, testUser, testPassword, method, path, body, hdr...)
}

func (e *testEnv) doAs(t testing.TB, user, password, method, path, body string, hdr ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.http.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if body != "" && strings.HasPrefix(strings.TrimSpace(body), "<") {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t testing.TB, resp *http.Response, code int) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, code, body)
	}
	return body
}

// multistatus is a parsed 207 body.
type multistatus struct {
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

type msResponse struct {
	Href      string       `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type msPropstat struct {
	Prop   msProp `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type msProp struct {
	Any []msAny `xml:",any"`
}

type msAny struct {
	XMLName xml.Name
	Inner   string   `xml:",innerxml"`
	Text    string   `xml:",chardata"`
	Hrefs   []string `xml:"DAV: href"`
}

func parseMS(t testing.TB, body string) multistatus {
	t.Helper()
	var ms multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("parsing multistatus: %v\n%s", err, body)
	}
	return ms
}

// prop returns the value of the property named local found (200) for href.
func (ms multistatus) prop(href, local string) (msAny, bool) {
	for _, r := range ms.Responses {
		if r.Href != href {
			continue
		}
		for _, ps := range r.Propstats {
			if !strings.Contains(ps.Status, " 200 ") {
				continue
			}
			for _, p := range ps.Prop.Any {
				if p.XMLName.Local == local {
					return p, true
				}
			}
		}
	}
	return msAny{}, false
}

// hrefs returns the response hrefs with their status ("200" for propstat
// responses).
func (ms multistatus) hrefs() map[string]string {
	out := map[string]string{}
	for _, r := range ms.Responses {
		st := "200"
		if r.Status != "" {
			st = strings.Fields(r.Status)[1]
		}
		out[r.Href] = st
	}
	return out
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
