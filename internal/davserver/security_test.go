package davserver

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kith/sync/card"
)

func TestHealthzNeedsNoLogin(t *testing.T) {
	e := newEnv(t)
	if body := wantStatus(t, e.doAs(t, "", "", http.MethodGet, "/healthz", ""), http.StatusOK); body != "ok\n" {
		t.Fatalf("healthz body %q", body)
	}
}

// TestLoginRefused checks that nothing but /healthz answers without the
// right password, and that the answer asks for Basic auth.
func TestLoginRefused(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Report = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the report") })
	})
	for _, tc := range []struct {
		name, user, password, method, path string
	}{
		{"no password", "", "", "PROPFIND", "/dav/alice/"},
		{"no password, root", "", "", "PROPFIND", "/"},
		{"no password, well-known", "", "", "PROPFIND", WellKnown},
		{"no password, report", "", "", http.MethodGet, "/report"},
		{"no password, card", "", "", http.MethodGet, bookHref + "ada.vcf"},
		{"wrong password", testUser, "Tr0ub4dor&3", "PROPFIND", "/dav/alice/"},
		{"empty password", testUser, "", "PROPFIND", "/dav/alice/"},
		{"unknown user", "mallory", testPassword, "PROPFIND", "/dav/mallory/"},
		{"user with a colon", "alice:x", testPassword, "PROPFIND", "/"},
		{"prefix of the user", "alic", testPassword, "PROPFIND", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.doAs(t, tc.user, tc.password, tc.method, tc.path, "")
			body := wantStatus(t, resp, http.StatusUnauthorized)
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="kith"`) {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if strings.Contains(body, "the report") || strings.Contains(body, "multistatus") {
				t.Errorf("refused request leaked content: %s", body)
			}
		})
	}
	if body := wantStatus(t, e.do(t, http.MethodGet, "/report", ""), http.StatusOK); body != "the report" {
		t.Fatalf("report with login: %q", body)
	}
	// Another user's principal is not there for alice.
	wantStatus(t, e.do(t, "PROPFIND", "/dav/bob/", "", "Depth", "0"), http.StatusNotFound)
}

// TestFailedLoginsSlowedDown: after a few failures a client is refused
// without a password check for a while that grows, even with the right
// password, and it may try again once the time has passed.
func TestFailedLoginsSlowedDown(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < freeFailures; i++ {
		wantStatus(t, e.doAs(t, testUser, "guess", "PROPFIND", "/", ""), http.StatusUnauthorized)
	}
	wantStatus(t, e.doAs(t, testUser, "guess", "PROPFIND", "/", ""), http.StatusUnauthorized)
	resp := e.doAs(t, testUser, testPassword, "PROPFIND", "/", "")
	wantStatus(t, resp, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q, want 1", resp.Header.Get("Retry-After"))
	}
	// A client probing without credentials still gets the challenge.
	wantStatus(t, e.doAs(t, "", "", "PROPFIND", "/", ""), http.StatusUnauthorized)
	e.clock.Add(time.Second)
	wantStatus(t, e.doAs(t, testUser, "guess", "PROPFIND", "/", ""), http.StatusUnauthorized)
	resp = e.doAs(t, testUser, testPassword, "PROPFIND", "/", "")
	wantStatus(t, resp, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("second backoff: Retry-After %q, want 2", resp.Header.Get("Retry-After"))
	}
	e.clock.Add(2 * time.Second)
	wantStatus(t, e.doAs(t, testUser, testPassword, "PROPFIND", "/", "", "Depth", "0"), 207)
	// A success forgets the failures.
	wantStatus(t, e.doAs(t, testUser, "guess", "PROPFIND", "/", ""), http.StatusUnauthorized)
	wantStatus(t, e.doAs(t, testUser, testPassword, "PROPFIND", "/", "", "Depth", "0"), 207)
}

func TestLimiterMemoryBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	l := newLimiter(clock.Now)
	for i := 0; i < 3*maxTracked; i++ {
		l.fail("ip:" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := len(l.m); n > maxTracked {
		t.Fatalf("limiter tracks %d keys, bound is %d", n, maxTracked)
	}
}

// TestUsersFileReloaded: a password set while the server runs counts at
// once, and the old one stops working.
func TestUsersFileReloaded(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(t, "PROPFIND", "/", "", "Depth", "0"), 207)
	if err := setPassword(e.users, testUser, []byte("new password"), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := setPassword(e.users, "bob", []byte("bob's"), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	// Same size and second as before would hide the change from a stat.
	later := time.Now().Add(time.Minute)
	os.Chtimes(e.users, later, later)
	wantStatus(t, e.do(t, "PROPFIND", "/", "", "Depth", "0"), http.StatusUnauthorized)
	wantStatus(t, e.doAs(t, testUser, "new password", "PROPFIND", "/", "", "Depth", "0"), 207)
	wantStatus(t, e.doAs(t, "bob", "bob's", "PROPFIND", "/dav/bob/", "", "Depth", "0"), 207)
}

func TestSetPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("# kith users\nbob:$2a$04$abcdefghijklmnopqrstuu5z8YqzPbHQ1A0T0b3v3m6q0q0q0q0q0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := setPassword(path, "alice", []byte("one"), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := setPassword(path, "alice", []byte("two"), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	text := readFile(t, path)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || lines[0] != "# kith users" || !strings.HasPrefix(lines[1], "bob:") || !strings.HasPrefix(lines[2], "alice:$2") {
		t.Fatalf("users file:\n%s", text)
	}
	if strings.Contains(text, "two") {
		t.Fatal("password stored in clear")
	}
	if err := bcrypt.CompareHashAndPassword([]byte(strings.TrimPrefix(lines[2], "alice:")), []byte("two")); err != nil {
		t.Fatalf("stored hash does not check: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	for _, tc := range []struct{ user, password string }{
		{"", "x"}, {"a:b", "x"}, {"a b", "x"}, {"../x", "x"}, {"alice", ""}, {"alice", strings.Repeat("x", 73)},
	} {
		if err := SetPassword(path, tc.user, []byte(tc.password)); err == nil {
			t.Errorf("SetPassword(%q, %q) accepted", tc.user, tc.password)
		}
	}
}

// TestPathTraversalRefused: hrefs and UIDs that try to leave the book are
// refused, in request paths and in multiget bodies, and nothing is stored.
func TestPathTraversalRefused(t *testing.T) {
	e := newEnv(t)
	body := vcard3("ok", "OK", "")
	for _, tc := range []struct {
		name, path string
		code       int
	}{
		{"dot dot", "/dav/alice/contacts/people/../../../../etc/passwd", http.StatusBadRequest},
		{"encoded dot dot", "/dav/alice/contacts/people/%2e%2e/x.vcf", http.StatusBadRequest},
		{"encoded slash", "/dav/alice/contacts/people/..%2f..%2fetc%2fpasswd", http.StatusBadRequest},
		{"backslash", "/dav/alice/contacts/people/..%5c..%5cx.vcf", http.StatusBadRequest},
		{"hidden", "/dav/alice/contacts/people/.x.vcf", http.StatusBadRequest},
		{"NUL", "/dav/alice/contacts/people/x%00.vcf", http.StatusBadRequest},
		{"double slash", "/dav/alice/contacts/people//x.vcf", http.StatusBadRequest},
		{"too deep", "/dav/alice/contacts/people/a/b.vcf", http.StatusNotFound},
		{"other user", "/dav/bob/contacts/people/x.vcf", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.do(t, http.MethodPut, tc.path, body, "Content-Type", "text/vcard"), tc.code)
		})
	}
	for _, uid := range []string{"../../etc/passwd", `..\..\x`, "a/b", ".hidden", "x\\y"} {
		t.Run("UID "+uid, func(t *testing.T) {
			wantStatus(t, e.do(t, http.MethodPut, bookHref+"x.vcf", vcard3(uid, "X", ""), "Content-Type", "text/vcard"), http.StatusBadRequest)
		})
	}
	ms := parseMS(t, wantStatus(t, e.do(t, "REPORT", bookHref, `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>
<D:href>/dav/alice/contacts/people/../../../../etc/passwd</D:href><D:href>/etc/passwd</D:href><D:href>/dav/alice/contacts/people/%2e%2e%2f%2e%2e%2fkith.db</D:href></C:addressbook-multiget>`), 207))
	for href, st := range ms.hrefs() {
		if st == "200" {
			t.Errorf("multiget %s: 200", href)
		}
	}
	if list, _ := e.srv.Target("server").List(t.Context()); len(list) != 0 {
		t.Fatalf("refused requests stored cards: %v", list)
	}
}

// zeros is an endless body that allocates nothing.
type zeros struct {
	n    atomic.Int64
	max  int64
	fill byte
}

func (z *zeros) Read(p []byte) (int, error) {
	done := z.n.Load()
	if done >= z.max {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.max-done)
	for i := range p[:n] {
		p[i] = z.fill
	}
	z.n.Add(n)
	return int(n), nil
}

// TestHugeBodyRefused sends 100 MB, with and without a Content-Length, and
// wants 413 without the server reading it all.
func TestHugeBodyRefused(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		length bool
		method string
	}{
		{"PUT with length", true, http.MethodPut},
		{"PUT chunked", false, http.MethodPut},
		{"REPORT chunked", false, "REPORT"},
		{"PROPFIND with length", true, "PROPFIND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &zeros{max: 100 << 20, fill: ' '} // XML whitespace: a parser reads on
			req, err := http.NewRequest(tc.method, e.http.URL+bookHref+"big.vcf", io.NopCloser(body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.method == "REPORT" {
				req.URL.Path = bookHref
			}
			if tc.length {
				req.ContentLength = body.max
			}
			req.Header.Set("Content-Type", "text/vcard")
			req.SetBasicAuth(testUser, testPassword)
			resp, err := e.http.Client().Do(req)
			if err != nil {
				t.Fatalf("request failed instead of 413: %v", err)
			}
			wantStatus(t, resp, http.StatusRequestEntityTooLarge)
		})
	}
}

func TestBadRequestsRefusedCleanly(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
		code                     int
	}{
		{"not a vCard", http.MethodPut, bookHref + "x.vcf", "hello", []string{"Content-Type", "text/vcard"}, http.StatusBadRequest},
		{"two vCards", http.MethodPut, bookHref + "x.vcf", vcard3("a", "A", "") + vcard3("b", "B", ""), []string{"Content-Type", "text/vcard"}, http.StatusBadRequest},
		{"wrong type", http.MethodPut, bookHref + "x.vcf", vcard3("a", "A", ""), []string{"Content-Type", "image/png"}, http.StatusUnsupportedMediaType},
		{"PUT on the book", http.MethodPut, bookHref, vcard3("a", "A", ""), []string{"Content-Type", "text/vcard"}, http.StatusMethodNotAllowed},
		{"broken XML", "PROPFIND", bookHref, "<D:propfind xmlns:D=\"DAV:\"><D:prop>", nil, http.StatusBadRequest},
		{"unknown report", "REPORT", bookHref, `<D:expand-property xmlns:D="DAV:"/>`, nil, http.StatusForbidden},
		{"report on a card", "REPORT", bookHref + "x.vcf", `<D:sync-collection xmlns:D="DAV:"/>`, nil, http.StatusForbidden},
		{"bad depth", "PROPFIND", bookHref, "", []string{"Depth", "2"}, http.StatusBadRequest},
		{"delete the book", http.MethodDelete, bookHref, "", nil, http.StatusForbidden},
		{"delete a missing card", http.MethodDelete, bookHref + "nope.vcf", "", nil, http.StatusNotFound},
		{"bad filter", "REPORT", bookHref, `<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter test="sometimes"/></C:addressbook-query>`, nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.do(t, tc.method, tc.path, tc.body, tc.hdr...), tc.code)
		})
	}
}

// TestXMLBodiesLimited: bodies under the size limit but nested deeply,
// naming hundreds of thousands of properties or elements are refused with
// 413 before they cost memory, for every method that parses XML.
func TestXMLBodiesLimited(t *testing.T) {
	e := newEnv(t)
	deep := strings.Repeat("<D:x>", 10000) + strings.Repeat("</D:x>", 10000)
	manyProps := `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<D:getetag/>", 800) + `</D:prop></D:propfind>`
	manyPatch := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>` + strings.Repeat("<D:a/>", 800) + `</D:prop></D:set></D:propertyupdate>`
	manyElems := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag>` + strings.Repeat("<D:a/>", 300000) + `</D:getetag></D:prop></D:propfind>`
	var b strings.Builder
	b.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag`)
	for i := range 250000 {
		b.WriteString(" a" + strconv.Itoa(i) + `=""`)
	}
	b.WriteString(`/></D:prop></D:propfind>`)
	manyAttrs := b.String()
	for _, tc := range []struct{ name, method, body string }{
		{"deep PROPFIND", "PROPFIND", `<D:propfind xmlns:D="DAV:">` + deep + `</D:propfind>`},
		{"deep PROPPATCH", "PROPPATCH", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>` + deep + `</D:prop></D:set></D:propertyupdate>`},
		{"deep REPORT", "REPORT", `<D:sync-collection xmlns:D="DAV:">` + deep + `</D:sync-collection>`},
		{"many properties", "PROPFIND", manyProps},
		{"many properties to patch", "PROPPATCH", manyPatch},
		{"many elements", "PROPFIND", manyElems},
		{"many attributes", "PROPFIND", manyAttrs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.do(t, tc.method, bookHref, tc.body, "Depth", "0"), http.StatusRequestEntityTooLarge)
		})
	}
	// An honest multiget of a big book is not over any limit.
	var mg strings.Builder
	mg.WriteString(`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>`)
	for i := range 5000 {
		mg.WriteString("<D:href>" + bookHref + "c" + strconv.Itoa(i) + ".vcf</D:href>")
	}
	mg.WriteString("</C:addressbook-multiget>")
	wantStatus(t, e.do(t, "REPORT", bookHref, mg.String()), 207)
}

// TestCardLimits: a card over [limits] (too many properties, too large) is
// refused with 403 CARDDAV:max-resource-size and not stored; the book
// advertises the smaller of the size limits; a card within them is taken.
func TestCardLimits(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CardLimits = card.Limits{Size: 64 << 10, Properties: 100} })
	wide := vcard3("wide", "Wide", strings.Repeat("TEL:+49 30 1234567\r\n", 5000))
	big := vcard3("big", "Big", "NOTE:"+strings.Repeat("x", 100<<10)+"\r\n")
	for name, body := range map[string]string{"wide.vcf": wide, "big.vcf": big} {
		got := wantStatus(t, e.do(t, http.MethodPut, bookHref+name, body, "Content-Type", "text/vcard", "If-None-Match", "*"), http.StatusForbidden)
		if !strings.Contains(got, "max-resource-size") {
			t.Errorf("%s: %s", name, got)
		}
		wantStatus(t, e.do(t, http.MethodGet, bookHref+name, ""), http.StatusNotFound)
	}
	wantStatus(t, e.do(t, http.MethodPut, bookHref+"ok.vcf", vcard3("ok", "Ok", strings.Repeat("TEL:+49 30 1234567\r\n", 50)), "Content-Type", "text/vcard"), http.StatusCreated)
	body := wantStatus(t, e.do(t, "PROPFIND", bookHref, `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:max-resource-size/></D:prop></D:propfind>`, "Depth", "0"), 207)
	if p, _ := parseMS(t, body).prop(bookHref, "max-resource-size"); p.Text != "65536" {
		t.Fatalf("max-resource-size %q, want 65536", p.Text)
	}
}
