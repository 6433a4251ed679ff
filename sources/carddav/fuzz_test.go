package carddav

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"kith/internal/dav"
	"kith/sync/card"
)

// FuzzMultistatus feeds arbitrary bodies to the multistatus reader and the
// href and status handling built on it: no input may panic.
func FuzzMultistatus(f *testing.F) {
	f.Add(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/b.vcf</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:sync-token>t1</d:sync-token></d:multistatus>`)
	f.Add(`<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><response><href>http://h/x%20y.vcf</href><propstat><prop><C:address-data>BEGIN:VCARD&#13;
VERSION:3.0&#13;
FN:x&#13;
END:VCARD</C:address-data></prop><status>HTTP/1.1 200 OK</status></propstat></response><response><href>/gone</href><status>HTTP/1.1 404 Not Found</status></response></multistatus>`)
	f.Add(`<multistatus xmlns="DAV:"><response><href>%zz</href><status>garbage</status></response></multistatus>`)
	base, _ := url.Parse("http://127.0.0.1/book/")
	f.Fuzz(func(t *testing.T, body string) {
		var ms multistatus
		if err := xml.NewDecoder(strings.NewReader(body)).Decode(&ms); err != nil {
			return
		}
		for _, r := range ms.Responses {
			dav.Code(r.Status)
			p, _ := r.OK()
			p.SupportedReports.Sync()
			dav.NormETag(p.ETag)
			dav.MatchETag(p.ETag)
			for _, h := range r.Hrefs {
				if u, err := dav.Resolve(base, h); err == nil {
					memberName(book{url: base}, u)
				}
			}
			if p.AddressData != nil {
				decodeCard([]byte(*p.AddressData), card.Limits{Size: 1 << 20, Properties: 2000})
			}
		}
	})
}
