package davserver

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPropfindGolden pins the discovery answers clients parse: allprop on
// every level and on a card (only RFC 4918's live properties: RFC 3744,
// 5397, 6578 and 6352 keep theirs out of allprop), and the book's
// properties asked for by name.
func TestPropfindGolden(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	epoch := regexp.MustCompile(`sync/[0-9a-f]{16}-`)
	const allprop = `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`
	// What a client asks for by name: every property of the book.
	const named = `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
		`<D:resourcetype/><D:displayname/><D:current-user-principal/><D:owner/><D:current-user-privilege-set/><D:supported-report-set/>` +
		`<D:sync-token/><CS:getctag/><C:supported-address-data/><C:max-resource-size/><C:addressbook-description/><C:supported-collation-set/>` +
		`<D:getetag/></D:prop></D:propfind>`
	for _, tc := range []struct{ name, path, depth, body string }{
		{"root", "/", "0", allprop},
		{"principal", "/dav/alice/", "1", allprop},
		{"home", "/dav/alice/contacts/", "1", allprop},
		{"book", bookHref, "1", allprop},
		{"book-named", bookHref, "0", named},
		{"card", bookHref + "ada.vcf", "0", allprop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := wantStatus(t, e.do(t, "PROPFIND", tc.path, tc.body, "Depth", tc.depth), 207)
			got := epoch.ReplaceAllString(body, "sync/EPOCH-")
			path := filepath.Join("testdata", "propfind-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Fatalf("PROPFIND %s:\n%s\nwant:\n%s", tc.path, got, want)
			}
		})
	}
}
