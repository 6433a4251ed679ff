package calendar

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kith/internal/dav"
	"kith/internal/davtest"
	ksync "kith/sync"
)

// caldavEvents are the objects stored on the server, by path under the
// user's home.
var caldavEvents = map[string]string{
	"work/coffee.ics": `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//kith//test//EN
BEGIN:VEVENT
UID:coffee-alice@example.org
DTSTAMP:20261101T090000Z
DTSTART;TZID=Europe/Berlin:20261120T100000
DTEND;TZID=Europe/Berlin:20261120T110000
SUMMARY:Coffee with Alice
ORGANIZER:mailto:me@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com
END:VEVENT
END:VCALENDAR
`,
	"work/standup.ics": `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//kith//test//EN
BEGIN:VEVENT
UID:daily-standup@example.org
DTSTAMP:20261101T090000Z
DTSTART:20261120T080000Z
DTEND:20261120T081500Z
RRULE:FREQ=DAILY;UNTIL=20261124T080000Z
EXDATE:20261121T080000Z,20261122T080000Z
ORGANIZER:mailto:me@example.org
ATTENDEE:mailto:omar@example.com
END:VEVENT
BEGIN:VEVENT
UID:daily-standup@example.org
DTSTAMP:20261101T090000Z
RECURRENCE-ID:20261123T080000Z
DTSTART:20261123T090000Z
DTEND:20261123T091500Z
ORGANIZER:mailto:me@example.org
ATTENDEE:mailto:omar@example.com
ATTENDEE:mailto:pia@example.com
END:VEVENT
END:VCALENDAR
`,
	"work/old.ics": `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//kith//test//EN
BEGIN:VEVENT
UID:old@example.org
DTSTAMP:20251101T090000Z
DTSTART:20251201T080000Z
DTEND:20251201T090000Z
ORGANIZER:mailto:me@example.org
ATTENDEE:mailto:alice@example.com
END:VEVENT
END:VCALENDAR
`,
	"personal/hike.ics": `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//kith//test//EN
BEGIN:VEVENT
UID:hike@example.org
DTSTAMP:20261101T090000Z
DTSTART;VALUE=DATE:20261108
DTEND;VALUE=DATE:20261109
ORGANIZER:mailto:carol@example.net
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.org
END:VEVENT
END:VCALENDAR
`,
	"personal/declined.ics": `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//kith//test//EN
BEGIN:VEVENT
UID:declined@example.org
DTSTAMP:20261101T090000Z
DTSTART:20261118T140000Z
DTEND:20261118T150000Z
ORGANIZER:mailto:bob@example.com
ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.org
END:VEVENT
END:VCALENDAR
`,
}

func startCalDAV(t *testing.T) *davtest.Server {
	t.Helper()
	srv := davtest.StartRadicale(t)
	fillCalDAV(t, srv, srv.Home)
	return srv
}

// fillCalDAV makes the calendars work and personal and a task list in the
// calendar home set home of srv, and stores caldavEvents in them.
func fillCalDAV(t *testing.T, srv *davtest.Server, home string) {
	t.Helper()
	srv.MakeCalendar(t, home+"work/", "Work", "VEVENT")
	srv.MakeCalendar(t, home+"personal/", "Personal", "VEVENT")
	srv.MakeCalendar(t, home+"tasks/", "", "VTODO") // no events, so it is not read
	for p, ics := range caldavEvents {
		putEvent(t, srv, home+p, ics)
	}
}

// putEvent stores an event on srv at path.
func putEvent(t *testing.T, srv *davtest.Server, path, ics string) {
	t.Helper()
	ics = strings.ReplaceAll(strings.ReplaceAll(ics, "\r\n", "\n"), "\n", "\r\n")
	if code, _, resp := srv.Do(t, "PUT", path, http.Header{"Content-Type": {"text/calendar; charset=utf-8"}}, ics); code/100 != 2 {
		t.Fatalf("PUT %s: %d %s", path, code, resp)
	}
}

func TestCalDAV(t *testing.T) {
	srv := startCalDAV(t)
	all := []string{
		"2026-11-08 hike@example.org/2026-11-08 people=1 who=carol@example.net",
		"2026-11-20 coffee-alice@example.org/2026-11-20 people=1 who=alice@example.com",
		"2026-11-20 daily-standup@example.org/2026-11-20 people=1 who=omar@example.com",
		"2026-11-23 daily-standup@example.org/2026-11-23 people=2 who=omar@example.com,pia@example.com",
		"2026-11-24 daily-standup@example.org/2026-11-24 people=1 who=omar@example.com",
	}
	work := []string{all[1], all[2], all[3], all[4]}
	for _, tt := range []struct {
		name      string
		url       string
		calendars []string
		want      []string
	}{
		{"discovered from the server root", srv.URL + "/", nil, all},
		{"from the home set", srv.URL + srv.Home, nil, all},
		{"one calendar's URL", srv.URL + srv.Home + "work/", nil, work},
		{"filtered by display name", srv.URL + "/", []string{"Personal"}, all[:1]},
		{"filtered by path segment", srv.URL + "/", []string{"work"}, work},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestSource(t, Options{URL: tt.url, Username: srv.Username, Password: srv.Password, Calendars: tt.calendars})
			got, err := s.Interactions(context.Background(), since)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, it := range got {
				lines = append(lines, strings.Replace(line(it), " cal ", " ", 1))
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCalDAVErrors(t *testing.T) {
	srv := startCalDAV(t)
	for _, tt := range []struct {
		name      string
		password  string
		calendars []string
		want      string
	}{
		{"wrong password", "bad-pw-1234", nil, "finding calendars"},
		{"no such calendar", srv.Password, []string{"Holidays"}, "none of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestSource(t, Options{URL: srv.URL + "/", Username: srv.Username, Password: tt.password, Calendars: tt.calendars})
			_, err := s.Interactions(context.Background(), since)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), srv.Password) || strings.Contains(err.Error(), "bad-pw-1234") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestCalDAVQueryRefused: when the calendar-query fails (a server error,
// or one object go-ical cannot read, which fails go-webdav's whole query),
// the calendar is listed and its events fetched one by one.
func TestCalDAVQueryRefused(t *testing.T) {
	srv := startCalDAV(t)
	proxy := davtest.NewProxy(t, srv.URL)
	proxy.AddFault(&davtest.Fault{Match: davtest.IsKind("calendar-query"), Status: http.StatusInternalServerError})
	s, logs := newTestSource(t, Options{URL: proxy.URL + srv.Home + "work/", Username: srv.Username, Password: srv.Password})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, it := range got {
		lines = append(lines, strings.Replace(line(it), " cal ", " ", 1))
	}
	want := []string{
		"2026-11-20 coffee-alice@example.org/2026-11-20 people=1 who=alice@example.com",
		"2026-11-20 daily-standup@example.org/2026-11-20 people=1 who=omar@example.com",
		"2026-11-23 daily-standup@example.org/2026-11-23 people=2 who=omar@example.com,pia@example.com",
		"2026-11-24 daily-standup@example.org/2026-11-24 people=1 who=omar@example.com",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(logs.String(), "fetching events one by one") {
		t.Errorf("the fallback is not logged:\n%s", logs)
	}
	if n := proxy.Count("GET"); n != 3 {
		t.Errorf("%d GETs, want one for each of the 3 objects", n)
	}
}

// TestCalDAVRedirectKeepsThePassword: a server that redirects to another
// port of the same host (where Go's client would keep Authorization) gets
// no password there; the calendar fails with a line saying why.
func TestCalDAVRedirectKeepsThePassword(t *testing.T) {
	other, leaked := passwordTrap(t)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	s, _ := newTestSource(t, Options{URL: redirecting.URL + "/", Username: "anna", Password: "s3cret"})
	_, err := s.Interactions(context.Background(), since)
	if err == nil || !strings.Contains(err.Error(), "not followed with the password") {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the other server got the password %d times", n)
	}
}

func TestCredentialsStayHome(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		ok       bool
	}{
		{"https://dav.example.org/a", "https://dav.example.org/b", true},
		{"http://dav.example.org/a", "https://dav.example.org/b", true},
		{"https://dav.example.org/a", "http://dav.example.org/b", false},
		{"https://dav.example.org/a", "https://evil.example.net/b", false},
		{"http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b", false},
		{"https://DAV.example.org/a", "https://dav.example.org/b", true},
	} {
		from, _ := http.NewRequest("GET", tt.from, nil)
		to, _ := http.NewRequest("GET", tt.to, nil)
		if err := credentialsStayHome(dav.NewAuth(from.URL, "anna", "s3cret"))(to, []*http.Request{from}); (err == nil) != tt.ok {
			t.Errorf("%s -> %s: err = %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
	}
}

// A server whose answers name a calendar on another host: that host never
// gets the password, and the calendar fails with a line saying why. An
// answer over the calendar size limit is read no further than the limit.
func TestCalDAVHostileAnswers(t *testing.T) {
	other, leaked := passwordTrap(t)
	endless, sent := davtest.EndlessAnswer(t)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprintf(w, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>/</D:href><D:propstat><D:prop>`+
			`<D:resourcetype><D:collection/></D:resourcetype><C:calendar-home-set><D:href>%s/home/</D:href></C:calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`, other.URL)
	}))
	defer server.Close()
	for _, tt := range []struct {
		name, url, want string
	}{
		{"home set on another host", server.URL + "/", "not the configured server"},
		{"answer over the limit", endless.URL + "/huge/", "calendar_size"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestSource(t, Options{URL: tt.url, Username: "anna", Password: "s3cret", Limits: Limits{Size: 1 << 20}})
			_, err := s.Update(context.Background(), &ksync.MemItems{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the other host got the password %d times", n)
	}
	if n := sent.Load(); n > 16<<20 {
		t.Errorf("the server got %d bytes out before the client stopped reading, want about the 1 MB limit", n)
	}
}

// passwordTrap is a server that counts the requests that bring a password.
func passwordTrap(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(other.Close)
	return other, &leaked
}

// TestCalDAVSabreLogin reads calendars from sabre/dav, the engine of
// Nextcloud and Baikal, logging in with Basic and with Digest (Baikal's
// default, which kith could not answer before), never sending Basic over
// http to a server that wants Digest; a wrong password gives one line
// naming the source and the refused login, and never the password.
func TestCalDAVSabreLogin(t *testing.T) {
	want := []string{
		"2026-11-08 hike@example.org/2026-11-08 people=1 who=carol@example.net",
		"2026-11-20 coffee-alice@example.org/2026-11-20 people=1 who=alice@example.com",
		"2026-11-20 daily-standup@example.org/2026-11-20 people=1 who=omar@example.com",
		"2026-11-23 daily-standup@example.org/2026-11-23 people=2 who=omar@example.com,pia@example.com",
		"2026-11-24 daily-standup@example.org/2026-11-24 people=1 who=omar@example.com",
	}
	for _, auth := range []string{"basic", "digest"} {
		t.Run(auth, func(t *testing.T) {
			srv := davtest.StartSabreCalDAV(t, auth)
			fillCalDAV(t, srv, srv.Home)
			// Bounded, so that a client that loops on the server's
			// challenges fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			proxy := davtest.NewProxy(t, srv.URL)
			for _, url := range []string{proxy.URL + "/", proxy.URL + srv.Home} {
				s, _ := newTestSource(t, Options{URL: url, Username: srv.Username, Password: srv.Password})
				got, err := s.Interactions(ctx, since)
				if err != nil {
					t.Fatalf("%s: %v", url, err)
				}
				var lines []string
				for _, it := range got {
					lines = append(lines, strings.Replace(line(it), " cal ", " ", 1))
				}
				if strings.Join(lines, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: got\n%s\nwant\n%s", url, strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
			}
			for _, r := range proxy.Requests() {
				if a := r.Header.Get("Authorization"); auth == "digest" && a != "" && !strings.HasPrefix(a, "Digest ") {
					t.Errorf("%s %s: sent %q to a server that asks for Digest, over http", r.Method, r.Path, strings.Fields(a)[0])
				}
			}
			s, _ := newTestSource(t, Options{Name: "baikal", URL: proxy.URL + "/", Username: srv.Username, Password: "not " + srv.Password})
			_, err := s.Interactions(ctx, since)
			if err == nil {
				t.Fatal("a wrong password read the calendars")
			}
			msg := err.Error()
			for _, w := range []string{`calendar "baikal"`, "HTTP 401", `login refused for user "kith"`} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if ctx.Err() != nil || strings.Contains(msg, srv.Password) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: not one line, shows the password, or came after the deadline", msg)
			}
		})
	}
}
