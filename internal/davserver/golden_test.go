package davserver

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPropfindGolden pins the discovery answers clients parse, with allprop
// on every level and on a card.
func TestPropfindGolden(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	epoch := regexp.MustCompile(`sync/[0-9a-f]{16}-`)
	for _, tc := range []struct{ name, path, depth string }{
		{"root", "/", "0"},
		{"principal", "/dav/alice/", "1"},
		{"home", "/dav/alice/contacts/", "1"},
		{"book", bookHref, "1"},
		{"card", bookHref + "ada.vcf", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := wantStatus(t, e.do(t, "PROPFIND", tc.path, `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, "Depth", tc.depth), 207)
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
