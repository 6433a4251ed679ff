package davserver

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// TestAllowHeader checks that OPTIONS and every 405 list exactly the
// methods the resource honours, and that each listed method is answered
// (no 405, no 5xx) while each one left out is refused.
func TestAllowHeader(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	tests := []struct {
		path string
		want string
	}{
		{"/", "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH"},
		{"/dav/alice/", "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH"},
		{"/dav/alice/contacts/", "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH"},
		{bookHref, "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT"},
		{bookHref + "ada.vcf", "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, PUT, DELETE"},
		{bookHref + "new.vcf", "OPTIONS, PUT"},
	}
	all := []string{"OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH", "REPORT", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "LOCK", "POST"}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := e.do(t, http.MethodOptions, tt.path, "")
			wantStatus(t, resp, http.StatusOK)
			if got := resp.Header.Get("Allow"); got != tt.want {
				t.Fatalf("Allow %q, want %q", got, tt.want)
			}
			if dav := resp.Header.Get("DAV"); dav != "1, 3, addressbook" {
				t.Fatalf("DAV %q", dav)
			}
			listed := map[string]bool{}
			for _, m := range strings.Split(tt.want, ", ") {
				listed[m] = true
			}
			for _, m := range all {
				if m == http.MethodDelete || m == http.MethodPut {
					continue // changes the book; PUT and DELETE have tests of their own
				}
				resp := e.do(t, m, tt.path, "")
				readBody(t, resp)
				switch {
				case resp.StatusCode >= 500:
					t.Errorf("%s %s: %d", m, tt.path, resp.StatusCode)
				case listed[m] && resp.StatusCode == http.StatusMethodNotAllowed:
					t.Errorf("%s %s: 405, but Allow lists it", m, tt.path)
				case !listed[m] && resp.StatusCode/100 == 2:
					t.Errorf("%s %s: %d, but Allow leaves it out", m, tt.path, resp.StatusCode)
				case resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != tt.want:
					t.Errorf("%s %s: 405 with Allow %q, want %q", m, tt.path, resp.Header.Get("Allow"), tt.want)
				}
			}
		})
	}
}

// TestMkcol: kith serves one book. MKCOL of a new book (plain or extended,
// RFC 5689) gets 403, MKCOL on anything that exists 405 with Allow.
func TestMkcol(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	ext := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Work</D:displayname></D:prop></D:set></D:mkcol>`
	for _, tt := range []struct {
		path, body string
		want       int
	}{
		{"/dav/alice/contacts/work/", "", http.StatusForbidden},
		{"/dav/alice/contacts/work/", ext, http.StatusForbidden},
		{"/dav/alice/contacts/people/sub/", "", http.StatusForbidden},
		{bookHref + "new.vcf", "", http.StatusForbidden},
		{bookHref, "", http.StatusMethodNotAllowed},
		{bookHref, ext, http.StatusMethodNotAllowed},
		{"/dav/alice/contacts/", "", http.StatusMethodNotAllowed},
		{bookHref + "ada.vcf", "", http.StatusMethodNotAllowed},
	} {
		resp := e.do(t, "MKCOL", tt.path, tt.body)
		wantStatus(t, resp, tt.want)
		if tt.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
			t.Errorf("MKCOL %s: 405 without Allow", tt.path)
		}
	}
	body := wantStatus(t, e.do(t, "PROPFIND", "/dav/alice/contacts/", "", "Depth", "1"), 207)
	if n := len(parseMS(t, body).Responses); n != 2 {
		t.Fatalf("home lists %d resources after MKCOL, want itself and the book\n%s", n, body)
	}
}

// propstatsOf returns, for the one response of a PROPPATCH multistatus,
// each property's status code and the propstat's inner XML.
func propstatsOf(t *testing.T, body string) map[string]string {
	t.Helper()
	var ms struct {
		Responses []struct {
			Href      string `xml:"DAV: href"`
			Status    string `xml:"DAV: status"`
			Propstats []struct {
				Prop   msProp `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
				Inner  string `xml:",innerxml"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(ms.Responses) != 1 {
		t.Fatalf("%d responses, want 1\n%s", len(ms.Responses), body)
	}
	r := ms.Responses[0]
	if r.Status != "" {
		t.Fatalf("PROPPATCH response has a status of its own (%q) besides its propstats\n%s", r.Status, body)
	}
	out := map[string]string{}
	for _, ps := range r.Propstats {
		f := strings.Fields(ps.Status)
		if len(f) < 2 {
			t.Fatalf("propstat status %q\n%s", ps.Status, body)
		}
		if len(ps.Prop.Any) == 0 {
			t.Fatalf("propstat without a property name\n%s", body)
		}
		for _, p := range ps.Prop.Any {
			if _, dup := out[p.XMLName.Local]; dup {
				t.Fatalf("%s answered twice\n%s", p.XMLName.Local, body)
			}
			out[p.XMLName.Local] = f[1]
		}
	}
	return out
}

// TestProppatch: a multistatus with one propstat per outcome naming each
// property; the book's displayname can be set (and shows in PROPFIND) and
// removed (the configured name comes back); protected and unknown
// properties get 403 and, PROPPATCH being atomic, a rename asked for
// alongside them is not made (424).
func TestProppatch(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	const ns = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:A="http://apple.com/ns/ical/"`
	displayName := func() string {
		body := wantStatus(t, e.do(t, "PROPFIND", bookHref, `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`, "Depth", "0"), 207)
		p, _ := parseMS(t, body).prop(bookHref, "displayname")
		return p.Text
	}

	body := wantStatus(t, e.do(t, "PROPPATCH", bookHref, `<D:propertyupdate `+ns+`><D:set><D:prop><D:displayname>Family</D:displayname></D:prop></D:set></D:propertyupdate>`), 207)
	if got := propstatsOf(t, body); len(got) != 1 || got["displayname"] != "200" {
		t.Fatalf("rename: %v\n%s", got, body)
	}
	if got := displayName(); got != "Family" {
		t.Fatalf("displayname %q after the rename", got)
	}

	body = wantStatus(t, e.do(t, "PROPPATCH", bookHref, `<D:propertyupdate `+ns+`><D:set><D:prop><D:displayname>Friends</D:displayname><A:calendar-color>#FF0000</A:calendar-color><D:getetag>x</D:getetag></D:prop></D:set><D:remove><D:prop><C:addressbook-description/></D:prop></D:remove></D:propertyupdate>`), 207)
	got := propstatsOf(t, body)
	want := map[string]string{"displayname": "424", "calendar-color": "403", "getetag": "403", "addressbook-description": "403"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q\n%s", k, got[k], v, body)
		}
	}
	if !strings.Contains(body, "cannot-modify-protected-property") {
		t.Errorf("no DAV:cannot-modify-protected-property for getetag\n%s", body)
	}
	if got := displayName(); got != "Family" {
		t.Fatalf("displayname %q after a refused update, want it unchanged", got)
	}

	body = wantStatus(t, e.do(t, "PROPPATCH", bookHref, `<D:propertyupdate `+ns+`><D:remove><D:prop><D:displayname/></D:prop></D:remove></D:propertyupdate>`), 207)
	if got := propstatsOf(t, body); got["displayname"] != "200" {
		t.Fatalf("remove: %v", got)
	}
	if got := displayName(); got != "People" {
		t.Fatalf("displayname %q after removing it, want the configured one", got)
	}

	// Elsewhere nothing is writable; a card's properties are protected.
	for _, path := range []string{"/dav/alice/", "/dav/alice/contacts/", bookHref + "ada.vcf"} {
		body := wantStatus(t, e.do(t, "PROPPATCH", path, `<D:propertyupdate `+ns+`><D:set><D:prop><D:displayname>X</D:displayname></D:prop></D:set></D:propertyupdate>`), 207)
		if got := propstatsOf(t, body); got["displayname"] != "403" {
			t.Errorf("%s: %v", path, got)
		}
	}
	wantStatus(t, e.do(t, "PROPPATCH", bookHref+"gone.vcf", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>X</D:displayname></D:prop></D:set></D:propertyupdate>`), http.StatusNotFound)
	wantStatus(t, e.do(t, "PROPPATCH", bookHref, `<D:propfind xmlns:D="DAV:"/>`), http.StatusBadRequest)
	wantStatus(t, e.do(t, "PROPPATCH", bookHref, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>`+strings.Repeat("x", 300)+`</D:displayname></D:prop></D:set></D:propertyupdate>`), 207)
}

// TestCollations: the collations RFC 6352 requires work; an unknown one is
// refused with the CARDDAV:supported-collation precondition instead of
// being taken for the default.
func TestCollations(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{
		"zoe.vcf": vcard3("zoe", "ZOË Ünal", ""),
		"bob.vcf": vcard3("bob", "Bob", ""),
	})
	query := func(collation, text string) *http.Response {
		return e.do(t, "REPORT", bookHref, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter><C:prop-filter name="FN"><C:text-match collation="`+collation+`" match-type="contains">`+text+`</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`, "Depth", "1")
	}
	for _, tt := range []struct {
		collation, text string
		want            int
	}{
		{"i;unicode-casemap", "zoë", 1},
		{"i;ascii-casemap", "zoë", 0}, // Ë is not ASCII: no match for ë
		{"i;ascii-casemap", "zo", 1},
		{"i;octet", "zo", 0},
		{"i;octet", "ZO", 1},
	} {
		body := wantStatus(t, query(tt.collation, tt.text), 207)
		if n := len(parseMS(t, body).Responses); n != tt.want {
			t.Errorf("%s %q: %d cards, want %d", tt.collation, tt.text, n, tt.want)
		}
	}
	body := wantStatus(t, query("i;klingon", "zo"), http.StatusForbidden)
	if !strings.Contains(body, "supported-collation") {
		t.Fatalf("unknown collation: %s", body)
	}
}

// TestVCard4 checks that a client asking for vCard 4.0 (Accept or
// address-data) gets a 4.0 card converted from the stored 3.0 one, that
// every representation has an ETag of its own, and that each of those
// ETags names the card in If-Match.
func TestVCard4(t *testing.T) {
	e := newEnv(t)
	etags := seed(t, e, map[string]string{
		"team.vcf": vcard3("team", "Team", "X-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ada\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15\r\nEMAIL;TYPE=INTERNET,pref:team@example.org\r\n"),
	})
	href := bookHref + "team.vcf"
	stored := `"` + etags["team.vcf"] + `"`

	resp := e.do(t, http.MethodGet, href, "", "User-Agent", davx5Agent, "Accept", "text/vcard;version=4.0")
	got := wantStatus(t, resp, http.StatusOK)
	c, err := card.Decode([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if c.Value(vcard.FieldVersion) != "4.0" || c.Value(vcard.FieldKind) != "group" || c.Value(vcard.FieldMember) != "urn:uuid:ada" || c.Value(vcard.FieldBirthday) != "--0415" {
		t.Fatalf("4.0 GET:\n%s", got)
	}
	tag4 := resp.Header.Get("ETag")
	if tag4 == "" || tag4 == stored {
		t.Fatalf("4.0 rendering has ETag %q, the stored 3.0 card %q", tag4, stored)
	}

	resp = e.do(t, http.MethodGet, href, "")
	got3 := wantStatus(t, resp, http.StatusOK)
	if !strings.Contains(got3, "VERSION:3.0") || resp.Header.Get("ETag") != stored {
		t.Fatalf("plain GET: ETag %q, want %q\n%s", resp.Header.Get("ETag"), stored, got3)
	}

	// The multiget by address-data version gives the same card and ETag.
	body := wantStatus(t, e.do(t, "REPORT", bookHref, `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data content-type="text/vcard" version="4.0"/></D:prop><D:href>`+href+`</D:href></C:addressbook-multiget>`), 207)
	ms := parseMS(t, body)
	if tag, _ := ms.prop(href, "getetag"); tag.Text != tag4 {
		t.Fatalf("multiget 4.0 getetag %q, GET gave %q", tag.Text, tag4)
	}
	if ad, _ := ms.prop(href, "address-data"); ad.Text != got {
		t.Fatalf("multiget 4.0:\n%s\nGET 4.0:\n%s", ad.Text, got)
	}
	// A 4.0 client's listing shows the 4.0 ETag; a conditional GET with it is 304.
	body = wantStatus(t, e.do(t, "PROPFIND", bookHref, `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, "Depth", "1", "Accept", "text/vcard; version=4.0"), 207)
	if tag, _ := parseMS(t, body).prop(href, "getetag"); tag.Text != tag4 {
		t.Fatalf("PROPFIND 4.0 getetag %q, want %q", tag.Text, tag4)
	}
	wantStatus(t, e.do(t, http.MethodGet, href, "", "Accept", "text/vcard;version=4.0", "If-None-Match", tag4), http.StatusNotModified)
	wantStatus(t, e.do(t, http.MethodGet, href, "", "If-None-Match", tag4), http.StatusOK)

	// The client writes back what it read, under the 4.0 ETag: accepted,
	// and stored as sent.
	edited := strings.Replace(got, "FN:Team", "FN:The Team", 1)
	resp = e.do(t, http.MethodPut, href, edited, "Content-Type", "text/vcard", "If-Match", tag4, "Accept", "text/vcard;version=4.0")
	wantStatus(t, resp, http.StatusNoContent)
	newTag := resp.Header.Get("ETag")
	wantStatus(t, e.do(t, http.MethodPut, href, edited, "Content-Type", "text/vcard", "If-Match", tag4), http.StatusPreconditionFailed)

	// Now stored as 4.0: a 4.0 client reads it as written under the PUT's
	// ETag, Apple gets 3.0 under another.
	resp = e.do(t, http.MethodGet, href, "", "Accept", "text/vcard;version=4.0")
	if b := wantStatus(t, resp, http.StatusOK); b != edited || resp.Header.Get("ETag") != newTag {
		t.Fatalf("4.0 GET after PUT: ETag %q (PUT gave %q)\n%s", resp.Header.Get("ETag"), newTag, b)
	}
	resp = e.do(t, http.MethodGet, href, "", "User-Agent", iosAgent)
	apple := wantStatus(t, resp, http.StatusOK)
	if !strings.Contains(apple, "VERSION:3.0") || !strings.Contains(apple, "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ada") || resp.Header.Get("ETag") == newTag {
		t.Fatalf("Apple GET: ETag %q (4.0's %q)\n%s", resp.Header.Get("ETag"), newTag, apple)
	}
	// Apple's listing shows the ETag Apple's GET gives, and it names the card too.
	body = wantStatus(t, e.do(t, "PROPFIND", bookHref, `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, "Depth", "1", "User-Agent", iosAgent), 207)
	if tag, _ := parseMS(t, body).prop(href, "getetag"); tag.Text != resp.Header.Get("ETag") {
		t.Fatalf("Apple's PROPFIND getetag %q, its GET %q", tag.Text, resp.Header.Get("ETag"))
	}
	wantStatus(t, e.do(t, http.MethodDelete, href, "", "If-Match", resp.Header.Get("ETag")), http.StatusNoContent)
}

// TestGroupCardsKeptAsWritten: group cards, Apple's (X-ADDRESSBOOKSERVER-
// KIND:group with X-ADDRESSBOOKSERVER-MEMBER) and vCard 4.0's (KIND:group
// with MEMBER), are stored as the client wrote them: a GET in the version
// they were written in, a multiget, a sync-collection and the engine's
// Target all give them back byte for byte (the engine: field for field),
// and the other version's client reads the same group and members.
func TestGroupCardsKeptAsWritten(t *testing.T) {
	e := newEnv(t)
	apple := "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iOS 18.1//EN\r\nN:Book club\r\nFN:Book club\r\n" +
		"X-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0A1B2C3D-0000-4000-8000-000000000001\r\n" +
		"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0A1B2C3D-0000-4000-8000-000000000002\r\nREV:2026-11-20T10:00:00Z\r\n" +
		"UID:5E6F7A8B-0000-4000-8000-0000000000AA\r\nEND:VCARD\r\n"
	v4 := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7\r\nKIND:group\r\nFN:Climbing\r\n" +
		"MEMBER:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af\r\nMEMBER:mailto:subscriber1@example.com\r\nEND:VCARD\r\n"
	cards := map[string]struct{ body, agent, accept string }{
		"5E6F7A8B-0000-4000-8000-0000000000AA.vcf": {apple, iosAgent, ""},
		"7c9e6679-7425-40de-944b-e07fc1f90ae7.vcf": {v4, davx5Agent, "text/vcard;version=4.0"},
	}
	for name, c := range cards {
		wantStatus(t, e.do(t, http.MethodPut, bookHref+name, c.body, "Content-Type", "text/vcard; charset=utf-8", "If-None-Match", "*", "User-Agent", c.agent), http.StatusCreated)
	}
	var hrefs []string
	for name, c := range cards {
		href := bookHref + name
		hrefs = append(hrefs, "<D:href>"+href+"</D:href>")
		if got := wantStatus(t, e.do(t, http.MethodGet, href, "", "User-Agent", c.agent, "Accept", c.accept), http.StatusOK); got != c.body {
			t.Errorf("GET %s:\n%s\nwant as written:\n%s", name, got, c.body)
		}
	}
	body := wantStatus(t, e.do(t, "REPORT", bookHref, `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`+strings.Join(hrefs, "")+`</C:addressbook-multiget>`), 207)
	ms := parseMS(t, body)
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/><C:address-data/></D:prop></D:sync-collection>`), 207)
	sc := parseMS(t, body)
	for name, c := range cards {
		for what, m := range map[string]multistatus{"multiget": ms, "sync-collection": sc} {
			if ad, _ := m.prop(bookHref+name, "address-data"); ad.Text != c.body {
				t.Errorf("%s %s:\n%s\nwant as written", what, name, ad.Text)
			}
		}
	}
	names := make([]string, 0, len(cards))
	for name := range cards {
		names = append(names, name)
	}
	entries, err := e.srv.Target("server").Get(t.Context(), names)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range cards {
		want, _ := card.Decode([]byte(c.body))
		if got := card.EncodeBytes(entries[name].Card); string(got) != string(card.EncodeBytes(want)) {
			t.Errorf("engine reads %s as\n%s", name, got)
		}
	}
	// Each version's client reads the other's group as a group, members kept.
	got := wantStatus(t, e.do(t, http.MethodGet, bookHref+"7c9e6679-7425-40de-944b-e07fc1f90ae7.vcf", "", "User-Agent", iosAgent), http.StatusOK)
	for _, line := range []string{"VERSION:3.0", "X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af", "X-ADDRESSBOOKSERVER-MEMBER:mailto:subscriber1@example.com"} {
		if !strings.Contains(got, line+"\r\n") {
			t.Errorf("Apple reads the 4.0 group without %q:\n%s", line, got)
		}
	}
	got = wantStatus(t, e.do(t, http.MethodGet, bookHref+"5E6F7A8B-0000-4000-8000-0000000000AA.vcf", "", "Accept", "text/vcard;version=4.0"), http.StatusOK)
	for _, line := range []string{"VERSION:4.0", "KIND:group", "MEMBER:urn:uuid:0A1B2C3D-0000-4000-8000-000000000001", "MEMBER:urn:uuid:0A1B2C3D-0000-4000-8000-000000000002", "UID:5E6F7A8B-0000-4000-8000-0000000000AA"} {
		if !strings.Contains(got, line+"\r\n") {
			t.Errorf("a 4.0 client reads Apple's group without %q:\n%s", line, got)
		}
	}
}

// TestPropfindDepthInfinity: Depth: infinity answers for the resource and
// everything below it (RFC 4918 9.1), down to the cards, not one level.
func TestPropfindDepthInfinity(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{
		"ada.vcf": vcard3("ada", "Ada Lovelace", ""),
		"bob.vcf": vcard3("bob", "Bob Miller", ""),
	})
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getetag/></D:prop></D:propfind>`
	below := []string{"/dav/", "/dav/alice/", "/dav/alice/contacts/", bookHref, bookHref + "ada.vcf", bookHref + "bob.vcf"}
	for i, start := range below[:4] {
		t.Run(start, func(t *testing.T) {
			ms := parseMS(t, wantStatus(t, e.do(t, "PROPFIND", start, body, "Depth", "infinity"), 207))
			got := ms.hrefs()
			for _, href := range below[i:] {
				if got[href] != "200" {
					t.Errorf("Depth infinity from %s: %s missing (got %v)", start, href, got)
				}
			}
			if len(got) != len(below)-i {
				t.Errorf("Depth infinity from %s: %v, want %v", start, got, below[i:])
			}
		})
	}
}
