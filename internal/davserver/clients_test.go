package davserver

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

const (
	iosAgent   = "iOS/18.1 (22B83) dataaccessd/1.0"
	davx5Agent = "DAVx5/4.4.3.2-ose (2024/10/28; dav4jvm; okhttp/4.12.0) Android/14"
	bookHref   = "/dav/alice/contacts/people/"
)

// seed writes cards through the engine's door (Target) and returns their
// ETags by href.
func seed(t *testing.T, e *testEnv, cards map[string]string) map[string]string {
	t.Helper()
	tg := e.srv.Target("server")
	etags := map[string]string{}
	for href, text := range cards {
		c, err := card.Decode([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		etag, err := tg.Put(context.Background(), href, c, "")
		if err != nil {
			t.Fatal(err)
		}
		etags[href] = etag
	}
	return etags
}

func vcard3(uid, fn, extra string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\n" + extra + "END:VCARD\r\n"
}

// A 1x1 JPEG is enough to see that a photo survives.
const jpegB64 = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="

// TestIOSContactsSession replays what iOS Contacts sends: discovery through
// the well-known address, PROPFINDs of the principal and the home set, a
// first sync-collection, a multiget, a no-change poll with the token, a new
// card, and a delete.
func TestIOSContactsSession(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{
		"ada.vcf":  vcard3("ada", "Ada Lovelace", "NOTE:met at the Analytical Society\\, 1833\r\n"),
		"bob.vcf":  vcard3("bob", "Bob Miller", "TEL;TYPE=CELL:+44 20 7946 0000\r\n"),
		"zoe.vcf":  vcard3("zoe", "Zoë Ünal", "EMAIL:zoe@example.org\r\n"),
		"carl.vcf": vcard3("carl", "Carl", ""),
	})
	ua := []string{"User-Agent", iosAgent, "Depth", "0"}

	// Discovery: the well-known address redirects to the principal.
	client := e.http.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("PROPFIND", e.http.URL+WellKnown, strings.NewReader(`<?xml version="1.0"?><A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/></A:prop></A:propfind>`))
	req.SetBasicAuth(testUser, testPassword)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/dav/alice/" {
		t.Fatalf("well-known: %d to %q, want 301 to /dav/alice/", resp.StatusCode, resp.Header.Get("Location"))
	}

	body := wantStatus(t, e.do(t, "PROPFIND", "/dav/alice/", `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav" xmlns:C="http://calendarserver.org/ns/">
  <A:prop><B:addressbook-home-set/><A:current-user-principal/><A:displayname/><C:email-address-set/>
  <A:principal-URL/><A:resource-id/><A:supported-report-set/></A:prop></A:propfind>`, ua...), 207)
	ms := parseMS(t, body)
	if p, ok := ms.prop("/dav/alice/", "addressbook-home-set"); !ok || len(p.Hrefs) != 1 || p.Hrefs[0] != "/dav/alice/contacts/" {
		t.Fatalf("principal: addressbook-home-set %+v, want /dav/alice/contacts/\n%s", p, body)
	}

	body = wantStatus(t, e.do(t, "PROPFIND", "/dav/alice/contacts/", `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav" xmlns:C="http://calendarserver.org/ns/" xmlns:D="http://me.com/_namespace/">
  <A:prop><A:add-member/><C:bulk-requests/><A:current-user-privilege-set/><A:displayname/><C:getctag/>
  <B:max-image-size/><B:max-resource-size/><C:me-card/><A:owner/><C:push-transports/><C:pushkey/>
  <A:quota-available-bytes/><A:quota-used-bytes/><A:resource-id/><A:resourcetype/><A:supported-report-set/>
  <A:sync-token/><D:bulk-requests/><E:addressbook-color xmlns:E="http://apple.com/ns/ical/"/></A:prop></A:propfind>`, "User-Agent", iosAgent, "Depth", "1"), 207)
	ms = parseMS(t, body)
	ctag, ok := ms.prop(bookHref, "getctag")
	if !ok || ctag.Text == "" {
		t.Fatalf("home depth 1: no getctag for the book\n%s", body)
	}
	if rt, _ := ms.prop(bookHref, "resourcetype"); !strings.Contains(rt.Inner, "addressbook") {
		t.Fatalf("book resourcetype %q lacks addressbook", rt.Inner)
	}
	if rs, _ := ms.prop(bookHref, "supported-report-set"); !strings.Contains(rs.Inner, "sync-collection") {
		t.Fatalf("book does not advertise sync-collection: %q", rs.Inner)
	}
	if pv, _ := ms.prop(bookHref, "current-user-privilege-set"); !strings.Contains(pv.Inner, "bind") {
		t.Fatalf("book is not writable: %q", pv.Inner)
	}

	// First sync: no token, every card.
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:"><A:sync-token/><A:sync-level>1</A:sync-level>
<A:prop><A:getetag/><A:getcontenttype/></A:prop></A:sync-collection>`, ua...), 207)
	ms = parseMS(t, body)
	if got := len(ms.Responses); got != 4 {
		t.Fatalf("first sync: %d responses, want 4\n%s", got, body)
	}
	token := ms.SyncToken
	if token == "" || token != ctag.Text {
		t.Fatalf("sync token %q, want the ctag %q", token, ctag.Text)
	}

	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<?xml version="1.0" encoding="UTF-8"?>
<B:addressbook-multiget xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav">
<A:prop><A:getetag/><B:address-data/></A:prop>
<A:href>/dav/alice/contacts/people/ada.vcf</A:href><A:href>/dav/alice/contacts/people/zoe.vcf</A:href>
<A:href>/dav/alice/contacts/people/gone.vcf</A:href></B:addressbook-multiget>`, ua...), 207)
	ms = parseMS(t, body)
	hrefs := ms.hrefs()
	if hrefs[bookHref+"ada.vcf"] != "200" || hrefs[bookHref+"zoe.vcf"] != "200" || hrefs[bookHref+"gone.vcf"] != "404" {
		t.Fatalf("multiget statuses %v\n%s", hrefs, body)
	}
	ada, _ := ms.prop(bookHref+"ada.vcf", "address-data")
	if !strings.Contains(ada.Text, `NOTE:met at the Analytical Society\, 1833`) || !strings.Contains(ada.Text, "VERSION:3.0") {
		t.Fatalf("ada's card as served:\n%s", ada.Text)
	}
	if zoe, _ := ms.prop(bookHref+"zoe.vcf", "address-data"); !strings.Contains(zoe.Text, "FN:Zoë Ünal") {
		t.Fatalf("zoe's card as served:\n%s", zoe.Text)
	}

	// The next poll: nothing changed, nothing listed, same token.
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:"><A:sync-token>`+token+`</A:sync-token><A:sync-level>1</A:sync-level>
<A:prop><A:getetag/></A:prop></A:sync-collection>`, ua...), 207)
	ms = parseMS(t, body)
	if len(ms.Responses) != 0 || ms.SyncToken != token {
		t.Fatalf("no-change poll: %d responses, token %q (was %q)\n%s", len(ms.Responses), ms.SyncToken, token, body)
	}

	// A contact created on the phone.
	newCard := "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 18.1//EN\r\nN:Nguyen;Linh;;;\r\nFN:Linh Nguyen\r\nTEL;type=CELL;type=VOICE;type=pref:+84 90 123 4567\r\nUID:7A1B6F0E-4A57-4F8B-9D1C-2B1D3E4F5A6B\r\nEND:VCARD\r\n"
	resp = e.do(t, http.MethodPut, bookHref+"7A1B6F0E-4A57-4F8B-9D1C-2B1D3E4F5A6B.vcf", newCard,
		"User-Agent", iosAgent, "Content-Type", "text/vcard; charset=utf-8", "If-None-Match", "*")
	wantStatus(t, resp, http.StatusCreated)
	newTag := resp.Header.Get("ETag")
	if newTag == "" {
		t.Fatal("PUT of a new card returned no ETag")
	}
	// Creating it again is refused.
	wantStatus(t, e.do(t, http.MethodPut, bookHref+"7A1B6F0E-4A57-4F8B-9D1C-2B1D3E4F5A6B.vcf", newCard,
		"Content-Type", "text/vcard", "If-None-Match", "*"), http.StatusPreconditionFailed)

	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<A:sync-collection xmlns:A="DAV:"><A:sync-token>`+token+
		`</A:sync-token><A:sync-level>1</A:sync-level><A:prop><A:getetag/></A:prop></A:sync-collection>`, ua...), 207)
	ms = parseMS(t, body)
	if got := ms.hrefs(); len(got) != 1 || got[bookHref+"7A1B6F0E-4A57-4F8B-9D1C-2B1D3E4F5A6B.vcf"] != "200" {
		t.Fatalf("poll after a new card: %v\n%s", got, body)
	}
	if et, _ := ms.prop(bookHref+"7A1B6F0E-4A57-4F8B-9D1C-2B1D3E4F5A6B.vcf", "getetag"); et.Text != newTag {
		t.Fatalf("etag in sync %q, PUT said %q", et.Text, newTag)
	}
	token = ms.SyncToken

	// Delete: a stale ETag is refused, the right one works, the next poll says 404.
	wantStatus(t, e.do(t, http.MethodDelete, bookHref+"bob.vcf", "", "If-Match", `"stale"`), http.StatusPreconditionFailed)
	resp = e.do(t, "PROPFIND", bookHref+"bob.vcf", "", "Depth", "0")
	bobTag, _ := parseMS(t, wantStatus(t, resp, 207)).prop(bookHref+"bob.vcf", "getetag")
	wantStatus(t, e.do(t, http.MethodDelete, bookHref+"bob.vcf", "", "If-Match", bobTag.Text), http.StatusNoContent)
	wantStatus(t, e.do(t, http.MethodGet, bookHref+"bob.vcf", ""), http.StatusNotFound)
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<A:sync-collection xmlns:A="DAV:"><A:sync-token>`+token+
		`</A:sync-token><A:sync-level>1</A:sync-level><A:prop><A:getetag/></A:prop></A:sync-collection>`, ua...), 207)
	if got := parseMS(t, body).hrefs(); len(got) != 1 || got[bookHref+"bob.vcf"] != "404" {
		t.Fatalf("poll after a delete: %v\n%s", got, body)
	}

	// A token that was never issued is refused so that the client starts over.
	resp = e.do(t, "REPORT", bookHref, `<A:sync-collection xmlns:A="DAV:"><A:sync-token>http://kith.invalid/ns/sync/0000-5</A:sync-token><A:sync-level>1</A:sync-level><A:prop><A:getetag/></A:prop></A:sync-collection>`, ua...)
	if body := wantStatus(t, resp, http.StatusForbidden); !strings.Contains(body, "valid-sync-token") {
		t.Fatalf("bad token: body lacks valid-sync-token:\n%s", body)
	}
}

// TestDAVx5Session replays DAVx5: discovery from the server root, the book's
// capabilities, a vCard 4.0 PUT with a photo, reading it back as DAVx5 (4.0)
// and as Apple (3.0, photo kept), an update with If-Match, a stale update,
// a query with an empty filter, and a delete.
func TestDAVx5Session(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"ada.vcf": vcard3("ada", "Ada Lovelace", "")})
	ua := []string{"User-Agent", davx5Agent, "Depth", "0"}

	body := wantStatus(t, e.do(t, "PROPFIND", "/", `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`, ua...), 207)
	if p, ok := parseMS(t, body).prop("/", "current-user-principal"); !ok || len(p.Hrefs) != 1 || p.Hrefs[0] != "/dav/alice/" {
		t.Fatalf("root: current-user-principal %+v\n%s", p, body)
	}
	body = wantStatus(t, e.do(t, "PROPFIND", bookHref, `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><prop><supported-report-set/><CARD:supported-address-data/><CS:getctag/><sync-token/><CARD:max-resource-size/></prop></propfind>`, ua...), 207)
	ms := parseMS(t, body)
	if sd, _ := ms.prop(bookHref, "supported-address-data"); !strings.Contains(sd.Inner, `version="4.0"`) {
		t.Fatalf("supported-address-data %q", sd.Inner)
	}
	if mx, _ := ms.prop(bookHref, "max-resource-size"); mx.Text != "10485760" {
		t.Fatalf("max-resource-size %q", mx.Text)
	}

	v4 := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:3b1c8a5e-9f7d-4e2a-8c6b-1d2e3f4a5b6c\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\n" +
		"TEL;TYPE=cell;VALUE=uri:tel:+1-202-555-0100\r\nPHOTO:data:image/jpeg;base64," + jpegB64 + "\r\nBDAY:--1209\r\nPRODID:-//DAVx5//ez-vcard\r\nEND:VCARD\r\n"
	href := bookHref + "3b1c8a5e-9f7d-4e2a-8c6b-1d2e3f4a5b6c.vcf"
	resp := e.do(t, http.MethodPut, href, v4, "User-Agent", davx5Agent, "Content-Type", "text/vcard; charset=utf-8", "If-None-Match", "*")
	wantStatus(t, resp, http.StatusCreated)
	etag := resp.Header.Get("ETag")

	// DAVx5 asks for 4.0 and gets what it wrote.
	resp = e.do(t, http.MethodGet, href, "", "User-Agent", davx5Agent, "Accept", "text/vcard;version=4.0, text/vcard;charset=utf-8;q=0.8")
	if got := wantStatus(t, resp, http.StatusOK); got != v4 {
		t.Fatalf("DAVx5 GET:\n%s\nwant what it PUT:\n%s", got, v4)
	}
	if resp.Header.Get("ETag") != etag {
		t.Fatalf("GET ETag %q, PUT gave %q", resp.Header.Get("ETag"), etag)
	}
	// Apple gets 3.0, photo included.
	got := wantStatus(t, e.do(t, http.MethodGet, href, "", "User-Agent", iosAgent), http.StatusOK)
	apple, err := card.Decode([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if v := apple.Value(vcard.FieldVersion); v != "3.0" {
		t.Fatalf("Apple got VERSION %s:\n%s", v, got)
	}
	if p := apple.Get(vcard.FieldPhoto); p == nil || p.Value != jpegB64 {
		t.Fatalf("Apple lost the photo:\n%s", got)
	}
	if tel := apple.Value(vcard.FieldTelephone); strings.HasPrefix(tel, "tel:") {
		t.Fatalf("Apple got a tel: URI %q", tel)
	}
	// In a multiget, too, by the address-data version asked for.
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag/><CARD:address-data content-type="text/vcard" version="3.0"/></prop><href>`+href+`</href></CARD:addressbook-multiget>`, ua...), 207)
	if ad, _ := parseMS(t, body).prop(href, "address-data"); !strings.Contains(ad.Text, "VERSION:3.0") || !strings.Contains(ad.Text, "\r\n") {
		t.Fatalf("multiget version 3.0:\n%s", ad.Text)
	}

	// Update with the right ETag, then with the stale one.
	v4b := strings.Replace(v4, "FN:Grace Hopper", "FN:Grace Brewster Hopper", 1)
	resp = e.do(t, http.MethodPut, href, v4b, "Content-Type", "text/vcard", "If-Match", etag)
	wantStatus(t, resp, http.StatusNoContent)
	if resp.Header.Get("ETag") == etag || resp.Header.Get("ETag") == "" {
		t.Fatalf("update: ETag %q (was %q)", resp.Header.Get("ETag"), etag)
	}
	wantStatus(t, e.do(t, http.MethodPut, href, v4, "Content-Type", "text/vcard", "If-Match", etag), http.StatusPreconditionFailed)

	// An empty filter matches every card; a text match only its own.
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter/></C:addressbook-query>`, "Depth", "1"), 207)
	if n := len(parseMS(t, body).Responses); n != 2 {
		t.Fatalf("empty filter: %d cards, want 2\n%s", n, body)
	}
	body = wantStatus(t, e.do(t, "REPORT", bookHref, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">brewster</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`, "Depth", "1"), 207)
	if got := parseMS(t, body).hrefs(); len(got) != 1 || got[href] != "200" {
		t.Fatalf("FN contains brewster: %v", got)
	}

	// The engine reads the phone's card as stored.
	entries, err := e.srv.Target("server").Get(context.Background(), []string{"3b1c8a5e-9f7d-4e2a-8c6b-1d2e3f4a5b6c.vcf"})
	if err != nil {
		t.Fatal(err)
	}
	if c := entries["3b1c8a5e-9f7d-4e2a-8c6b-1d2e3f4a5b6c.vcf"].Card; c.Value(vcard.FieldFormattedName) != "Grace Brewster Hopper" {
		t.Fatalf("engine reads %v", c)
	}

	resp = e.do(t, http.MethodDelete, href, "", "If-Match", etag)
	wantStatus(t, resp, http.StatusPreconditionFailed)
}
