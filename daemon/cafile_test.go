package daemon

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davtest"
	"kith/internal/testca"
	"kith/sync/card"
)

// A home server behind https with a certificate from the user's own CA
// (Radicale behind a TLS front, as behind nginx): a CardDAV source and a
// CalDAV calendar fail naming themselves and the certificate, and saying
// how to trust it, until ca_file trusts that CA; then they read.
func TestCAFileForDAV(t *testing.T) {
	srv := davtest.StartRadicale(t)
	book := srv.MakeBook(t, "friends", "Friends")
	srv.PutCard(t, book+"dana.vcf", davtest.Card("dana-fox", "Dana Fox", "EMAIL:dana@example.net"))
	srv.MakeCalendar(t, srv.Home+"personal/", "", "VEVENT")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//test//EN\r\nBEGIN:VEVENT\r\nUID:coffee\r\nDTSTAMP:20261101T090000Z\r\n" +
		"DTSTART:20261123T080000Z\r\nSUMMARY:Coffee\r\nORGANIZER:mailto:me@example.org\r\n" +
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol.miller@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, _, resp := srv.Do(t, "PUT", srv.Home+"personal/coffee.ics", http.Header{"Content-Type": {"text/calendar"}}, ics); code/100 != 2 {
		t.Fatalf("PUT: %d %s", code, resp)
	}
	target, _ := url.Parse(srv.URL)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	ca := testca.New(t, t.TempDir())
	front.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Cert}}
	front.StartTLS()
	defer front.Close()

	cfg, dir := demoSetup(t)
	pw := filepath.Join(dir, "dav-password")
	os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600)
	cfg.UserEmails = []string{"me@example.org"}
	login := DAV{Username: srv.Username, PasswordFile: pw}
	dav, cal := login, login
	dav.URL, cal.URL = front.URL+book, front.URL+srv.Home+"personal/"
	cfg.Sources = append(cfg.Sources, SourceConfig{Name: "home-dav", Kind: "carddav", DAV: dav})
	cfg.Calendars = []CalendarConfig{{Name: "home-cal", DAV: cal}}

	sum := syncAt(t, cfg, fixedNow)
	for _, name := range []string{`source "home-dav"`, `calendar "home-cal"`} {
		found := false
		for _, e := range sum.Errors {
			found = found || strings.Contains(e, name) && strings.Contains(e, "certificate") && strings.Contains(e, "trust it with ca_file")
		}
		if !found {
			t.Errorf("without ca_file: no error naming %s and the certificate, with the ca_file hint: %q", name, sum.Errors)
		}
	}

	cfg.Sources[len(cfg.Sources)-1].CAFile = ca.CAFile
	cfg.Calendars[0].CAFile = ca.CAFile
	if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) > 0 {
		t.Fatalf("with ca_file: %s", sum)
	}
	var dana, carol string
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		c, _ := card.Decode([]byte(body))
		switch card.Text(c.Value("FN")) {
		case "Dana Fox":
			dana = body
		case "Carol Miller":
			carol = c.Value("X-KITH-LAST-INTERACTION")
		}
	}
	if dana == "" {
		t.Error("the CardDAV source's card is not in the merged book")
	}
	if carol != "2026-11-23" {
		t.Errorf("Carol's last interaction %q, want the calendar's 2026-11-23", carol)
	}
}
