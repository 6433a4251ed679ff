package davserver

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"kith/sync/card"
)

// FuzzParsePath: no path resolves to a card name that could leave the book.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/dav/", "/dav/alice/contacts/people/", "/dav/alice/contacts/people/a.vcf",
		"/dav/alice/contacts/people/..%2f..%2fx", "/dav/alice/contacts/people/%2e%2e", "//", "/dav/alice/contacts/people/a%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		loc, err := parsePath(p, testUser)
		if err != nil || loc.kind != kindCard {
			return
		}
		if loc.name == "" || loc.name == "." || loc.name == ".." || strings.ContainsAny(loc.name, "/\\\x00") || strings.HasPrefix(loc.name, ".") {
			t.Fatalf("%q resolved to card name %q", p, loc.name)
		}
		again, err := parsePath(cardPath(testUser, loc.name), testUser)
		if err != nil || again != loc {
			t.Fatalf("%q: card path %q does not resolve back: %v %v", p, cardPath(testUser, loc.name), again, err)
		}
	})
}

// FuzzRequest: any PROPFIND, REPORT or PROPPATCH body is decoded (under
// the XML limits) and matched without a panic.
func FuzzRequest(f *testing.F) {
	f.Add(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><C:address-data xmlns:C="urn:ietf:params:xml:ns:carddav" version="3.0"><C:prop name="FN"/></C:address-data></D:prop></D:propfind>`)
	f.Add(`<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter test="allof"><C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:text-match>home</C:text-match></C:param-filter><C:text-match negate-condition="yes" match-type="ends-with">.org</C:text-match></C:prop-filter></C:filter><C:limit><C:nresults>3</C:nresults></C:limit></C:addressbook-query>`)
	f.Add(`<D:sync-collection xmlns:D="DAV:"><D:sync-token>http://kith.invalid/ns/sync/ab-1</D:sync-token><D:limit><D:nresults>1</D:nresults></D:limit></D:sync-collection>`)
	c, err := card.Decode([]byte(vcard3("u", "Ada Lovelace", "EMAIL;TYPE=HOME:ada@example.org\r\nNOTE:a\\, b\r\n")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set><D:remove><D:prop><D:a/></D:prop></D:remove></D:propertyupdate>`)
	f.Fuzz(func(t *testing.T, body string) {
		var pu xPropertyUpdate
		decodeBody(&http.Request{Body: io.NopCloser(strings.NewReader(body))}, &pu)
		r, _ := http.NewRequest("REPORT", "/", strings.NewReader(body))
		req, err := decodeRequest(r)
		if err != nil {
			return
		}
		req.propRequest()
		if req.Filter != nil && req.Filter.check() == nil {
			req.Filter.match(c)
		}
		if req.SyncToken != nil {
			parseToken(*req.SyncToken, bookState{Epoch: "ab", Rev: 5, Floor: 1})
		}
	})
}

// FuzzRender: a stored card is always served as something kith can read
// back, in the version asked for.
func FuzzRender(f *testing.F) {
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nFN:X\r\nTEL;VALUE=uri:tel:+1-555\r\nEND:VCARD\r\n"), "3.0")
	f.Add([]byte(vcard3("u", "U", "")), "4.0")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		if _, err := card.Decode(data); err != nil {
			return // never stored
		}
		out := render(data, version, nil)
		c, err := card.Decode(out)
		if err != nil {
			t.Fatalf("served card does not decode: %v\n%s", err, out)
		}
		if version == "3.0" && c.Value("VERSION") != "3.0" && !bytes.Equal(out, data) {
			t.Fatalf("asked 3.0, got %q", c.Value("VERSION"))
		}
		if version == "4.0" && c.Value("VERSION") != "4.0" && !bytes.Equal(out, data) {
			t.Fatalf("asked 4.0, got %q", c.Value("VERSION"))
		}
	})
}
