package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/sync/card"
)

// Calendars and mail named in the config count as interactions on the
// merged cards; newsletters, declined events and mail from strangers do not.
func TestCalendarAndMailInteractions(t *testing.T) {
	cfg, dir := demoSetup(t)
	cal := filepath.Join(dir, "calendar")
	sent := filepath.Join(dir, "Maildir-sent")
	inbox := filepath.Join(dir, "Maildir-inbox")
	for _, d := range []string{cal, sent + "/cur", sent + "/new", sent + "/tmp", inbox + "/cur", inbox + "/new", inbox + "/tmp"} {
		os.MkdirAll(d, 0o700)
	}
	// Bob: a dinner on 22 Nov with him alone (he has only an old note line).
	os.WriteFile(filepath.Join(cal, "dinner.ics"), []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:dinner-1\r\n"+
		"DTSTART:20261122T190000Z\r\nSUMMARY:Dinner\r\nORGANIZER:mailto:me@example.org\r\n"+
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@miller-family.example\r\nEND:VEVENT\r\n"+
		// Ada declined a meeting on 23 Nov: not an interaction.
		"BEGIN:VEVENT\r\nUID:declined-1\r\nDTSTART:20261123T100000Z\r\nSUMMARY:Review\r\nORGANIZER:mailto:ada@engines.example\r\n"+
		"ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o600)
	// Mail sent to Carol on 21 Nov; a newsletter "from" Ada on 24 Nov.
	os.WriteFile(filepath.Join(sent, "cur", "1.eml:2,S"), []byte("From: Me <me@example.org>\r\nTo: Carol Miller <carol.miller@example.com>\r\n"+
		"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\nSubject: school fair\r\n\r\nhello\r\n"), 0o600)
	os.WriteFile(filepath.Join(inbox, "cur", "2.eml:2,S"), []byte("From: Ada <ada@engines.example>\r\nTo: me@example.org\r\n"+
		"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <n1@engines.example>\r\nList-Unsubscribe: <mailto:u@engines.example>\r\nSubject: news\r\n\r\nnews\r\n"), 0o600)
	cfg.UserEmails = []string{"me@example.org"}
	cfg.Calendars = []CalendarConfig{{Name: "calendar", Paths: []string{cal}}}
	cfg.Mail = []MailConfig{{Name: "mail", Sent: []string{sent}, Received: []string{inbox}}}
	syncAt(t, cfg, fixedNow)

	got := map[string]string{}
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		got[card.Text(c.Value("FN"))] = c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND")
	}
	want := map[string]string{
		"Bob Miller":   "2026-11-22 event",
		"Carol Miller": "2026-11-21 mail-sent",
		"Ada Lovelace": "2025-09-01 meeting", // neither the declined event nor the newsletter
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: last interaction %q, want %q", name, got[name], w)
		}
	}

	// The calendar is gone for a sync: what it gave is kept.
	os.RemoveAll(cal)
	sum := syncAt(t, cfg, fixedNow.Add(time.Hour))
	if len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], "calendar") {
		t.Errorf("summary %s: want the calendar's failure reported", sum)
	}
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		if strings.Contains(body, "FN:Bob Miller") && !strings.Contains(body, "X-KITH-LAST-INTERACTION:2026-11-22") {
			t.Errorf("Bob's dinner forgotten while the calendar was unreadable:\n%s", body)
		}
	}
}
