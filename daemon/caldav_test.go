package daemon

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"kith/internal/davtest"
	"kith/sync/card"
)

// A CalDAV [[calendar]] on a real Radicale: a sync in which the calendar
// did not change asks it one PROPFIND and leaves the cards alone; an event
// added on the server moves Carol's last interaction, and deleting it
// moves it back, each at the cost of the change.
func TestCalDAVCalendarSyncs(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srv.MakeCalendar(t, srv.Home+"personal/", "", "VEVENT")
	event := func(uid, day string) {
		t.Helper()
		ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T090000Z\r\n"+
			"DTSTART:%sT080000Z\r\nSUMMARY:Coffee\r\nORGANIZER:mailto:me@example.org\r\n"+
			"ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol.miller@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", uid, day)
		if code, _, resp := srv.Do(t, "PUT", srv.Home+"personal/"+uid+".ics", http.Header{"Content-Type": {"text/calendar"}}, ics); code/100 != 2 {
			t.Fatalf("PUT: %d %s", code, resp)
		}
	}
	event("coffee-1", "20261123")
	proxy := davtest.NewProxy(t, srv.URL)

	cfg, dir := demoSetup(t)
	pw := filepath.Join(dir, "caldav-password")
	os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600)
	cfg.UserEmails = []string{"me@example.org"}
	cfg.Calendars = []CalendarConfig{{Name: "cal", DAV: DAV{URL: proxy.URL + "/", Username: srv.Username, PasswordFile: pw}}}

	carol := func() string {
		t.Helper()
		for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
			c, _ := card.Decode([]byte(body))
			if card.Text(c.Value("FN")) == "Carol Miller" {
				return c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND")
			}
		}
		t.Fatal("no merged card for Carol Miller")
		return ""
	}
	sync := func(name, want string, wantKinds ...string) *Summary {
		t.Helper()
		proxy.Reset()
		sum := syncAt(t, cfg, fixedNow)
		if len(sum.Errors) > 0 {
			t.Fatalf("%s: %s", name, sum)
		}
		var kinds []string
		for _, r := range proxy.Requests() {
			kinds = append(kinds, r.Kind)
		}
		if wantKinds != nil && !slices.Equal(kinds, wantKinds) {
			t.Errorf("%s: requests %q, want %q", name, kinds, wantKinds)
		}
		if got := carol(); got != want {
			t.Errorf("%s: Carol's last interaction %q, want %q", name, got, want)
		}
		return sum
	}
	sync("first sync", "2026-11-23 event")
	if sum := sync("nothing changed", "2026-11-23 event", "PROPFIND depth 1"); sum.Created+sum.Updated != 0 {
		t.Errorf("nothing changed, yet: %s", sum)
	}
	event("coffee-2", "20261124")
	sync("event added", "2026-11-24 event", "PROPFIND depth 1", "sync-collection", "calendar-multiget")
	srv.DeleteCard(t, srv.Home+"personal/coffee-2.ics")
	sync("event deleted", "2026-11-23 event", "PROPFIND depth 1", "sync-collection")
}
