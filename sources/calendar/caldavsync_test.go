package calendar

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kith/internal/davtest"
	ksync "kith/sync"
)

// calServers are the CalDAV servers the incremental tests run against,
// with the path of the user's calendar home set.
var calServers = []struct {
	name  string
	start func(testing.TB) *davtest.Server
	home  func(*davtest.Server) string
}{
	{"radicale", davtest.StartRadicale, func(s *davtest.Server) string { return s.Home }},
	{"xandikos", davtest.StartXandikos, func(*davtest.Server) string { return "/user/calendars/" }},
	{"sabre", func(t testing.TB) *davtest.Server { return davtest.StartSabreCalDAV(t, "basic") }, func(s *davtest.Server) string { return s.Home }},
	{"sabre-digest", func(t testing.TB) *davtest.Server { return davtest.StartSabreCalDAV(t, "digest") }, func(s *davtest.Server) string { return s.Home }},
}

// lunchICS is an event with Alice on the given day, at noon UTC.
func lunchICS(uid, date string) string {
	return fmt.Sprintf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//kith//test//EN\nBEGIN:VEVENT\nUID:%s\nDTSTAMP:20261101T090000Z\n"+
		"DTSTART:%sT120000Z\nDTEND:%sT130000Z\nSUMMARY:Lunch\nORGANIZER:mailto:me@example.org\n"+
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\nEND:VEVENT\nEND:VCALENDAR\n", uid, date, date)
}

// kinds returns the kinds of the requests the proxy saw, in order.
func kinds(p *davtest.Proxy) []string {
	var out []string
	for _, r := range p.Requests() {
		k := r.Kind
		if r.Hrefs > 0 {
			k += fmt.Sprintf(" (%d)", r.Hrefs)
		}
		out = append(out, k)
	}
	return out
}

// A CalDAV calendar that did not change costs one request for all the
// calendars and gives the same version and interactions; an event added,
// moved or deleted on the server is seen, at the cost of the change alone
// (sync-collection and a multiget of what changed).
func TestCalDAVIncremental(t *testing.T) {
	for _, server := range calServers {
		t.Run(server.name, func(t *testing.T) {
			srv := server.start(t)
			home := server.home(srv)
			fillCalDAV(t, srv, home)
			proxy := davtest.NewProxy(t, srv.URL)
			s, logs := newTestSource(t, Options{URL: proxy.URL + "/", Username: srv.Username, Password: srv.Password})
			clock := now
			s.opts.Now = func() time.Time { return clock }
			store := &ksync.MemItems{}

			whole, err := s.Interactions(context.Background(), since)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, in := range whole {
				want = append(want, line(in))
			}
			v1, got := updateLoad(t, s, store)
			if !slices.Equal(got, want) || len(got) != 5 {
				t.Fatalf("first update:\n%s\nwant (the whole read):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			step := func(name string, wantKinds []string, check func(v string, lines []string)) {
				t.Helper()
				proxy.Reset()
				v, lines := updateLoad(t, s, store)
				if k := kinds(proxy); !slices.Equal(k, wantKinds) {
					t.Errorf("%s: requests %q, want %q", name, k, wantKinds)
				}
				check(v, lines)
			}
			step("nothing changed", []string{"PROPFIND depth 1"}, func(v string, lines []string) {
				if v != v1 || !slices.Equal(lines, want) {
					t.Errorf("version %s (was %s), interactions\n%s", v, v1, strings.Join(lines, "\n"))
				}
			})

			lunch := "2026-11-24 cal lunch@example.org/2026-11-24 people=1 who=alice@example.com"
			putEvent(t, srv, home+"work/lunch.ics", lunchICS("lunch@example.org", "20261124"))
			step("event added", []string{"PROPFIND depth 1", "sync-collection", "calendar-multiget (1)"}, func(v string, lines []string) {
				if v == v1 || !slices.Contains(lines, lunch) || len(lines) != 6 {
					t.Errorf("version %s, interactions\n%s", v, strings.Join(lines, "\n"))
				}
			})

			moved := strings.Replace(lunch, "2026-11-24", "2026-11-23", 2)
			putEvent(t, srv, home+"work/lunch.ics", lunchICS("lunch@example.org", "20261123"))
			step("event moved", []string{"PROPFIND depth 1", "sync-collection", "calendar-multiget (1)"}, func(_ string, lines []string) {
				if slices.Contains(lines, lunch) || !slices.Contains(lines, moved) {
					t.Errorf("interactions\n%s", strings.Join(lines, "\n"))
				}
			})

			srv.DeleteCard(t, home+"work/lunch.ics")
			var v3 string
			step("event deleted", []string{"PROPFIND depth 1", "sync-collection"}, func(v string, lines []string) {
				v3 = v
				if !slices.Equal(lines, want) {
					t.Errorf("interactions\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
			})
			step("nothing changed again", []string{"PROPFIND depth 1"}, func(v string, _ []string) {
				if v != v3 {
					t.Errorf("version %s, was %s", v, v3)
				}
			})

			// A token the server no longer takes: the calendar is read whole.
			proxy.AddFault(&davtest.Fault{Match: davtest.IsKind("sync-collection"), InvalidToken: true, Times: 1})
			putEvent(t, srv, home+"work/lunch.ics", lunchICS("lunch@example.org", "20261124"))
			step("token refused", []string{"PROPFIND depth 1", "sync-collection", "PROPFIND depth 0", "calendar-query"}, func(_ string, lines []string) {
				if !slices.Contains(lines, lunch) || len(lines) != 6 {
					t.Errorf("interactions\n%s", strings.Join(lines, "\n"))
				}
			})
			if !strings.Contains(logs.String(), "sync token refused") {
				t.Errorf("the refused token is not logged:\n%s", logs)
			}

			// A failed read keeps what the calendars gave before.
			proxy.AddFault(&davtest.Fault{Status: http.StatusServiceUnavailable})
			srv.DeleteCard(t, home+"work/lunch.ics")
			proxy.Reset()
			if _, err := s.Update(context.Background(), store); err == nil {
				t.Error("update through a failing server did not fail")
			}
			if got, _ := s.Load(context.Background(), store, since); len(got) != 6 {
				t.Errorf("after a failed read, %d interactions, want the 6 known", len(got))
			}
			proxy.ClearFaults()

			// A calendar that vanished takes its events with it.
			srv.DeleteCard(t, home+"personal/")
			step("calendar gone", []string{"PROPFIND depth 1", "sync-collection"}, func(_ string, lines []string) {
				if !slices.Equal(lines, want[1:]) {
					t.Errorf("interactions\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want[1:], "\n"))
				}
			})

			// An event still ahead counts once it has begun, from what the
			// state holds: neither the morning of its day nor the sync
			// after it began reads its object again.
			putEvent(t, srv, home+"work/dinner.ics", lunchICS("dinner@example.org", "20261127"))
			dinner := "2026-11-27 cal dinner@example.org/2026-11-27 people=1 who=alice@example.com"
			var ahead string
			step("event ahead", []string{"PROPFIND depth 1", "sync-collection", "calendar-multiget (1)"}, func(v string, lines []string) {
				ahead = v
				if slices.Contains(lines, dinner) {
					t.Errorf("an event not yet begun counts:\n%s", strings.Join(lines, "\n"))
				}
			})
			step("before its day", []string{"PROPFIND depth 1"}, func(string, []string) {})
			for _, hour := range []int{0, 9, 11} {
				clock = time.Date(2026, 11, 27, hour, 0, 0, 0, time.UTC)
				step(fmt.Sprintf("its day, %02d:00, before it begins", hour), []string{"PROPFIND depth 1"}, func(v string, lines []string) {
					if v != ahead || slices.Contains(lines, dinner) {
						t.Errorf("version moved %v before the event began:\n%s", v != ahead, strings.Join(lines, "\n"))
					}
				})
			}
			clock = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
			var begun string
			step("begun", []string{"PROPFIND depth 1"}, func(v string, lines []string) {
				begun = v
				if v == ahead || !slices.Contains(lines, dinner) {
					t.Errorf("the dinner does not count once begun (version moved %v):\n%s", v != ahead, strings.Join(lines, "\n"))
				}
			})
			clock = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			step("next day", []string{"PROPFIND depth 1"}, func(v string, lines []string) {
				if v != begun || !slices.Contains(lines, dinner) {
					t.Errorf("version moved %v:\n%s", v != begun, strings.Join(lines, "\n"))
				}
			})
		})
	}
}

// A server without getctag is asked for its changes by sync-collection
// each sync; one without sync-collection has a changed calendar read
// whole. Either way changes are seen.
func TestCalDAVWithoutTags(t *testing.T) {
	srv := davtest.StartRadicale(t)
	fillCalDAV(t, srv, srv.Home)
	for _, tt := range []struct {
		name      string
		fault     davtest.Fault
		unchanged []string
		changed   []string
	}{
		{"no getctag", davtest.Fault{HideCTag: true},
			[]string{"PROPFIND depth 1", "sync-collection", "sync-collection"},
			[]string{"PROPFIND depth 1", "sync-collection", "sync-collection", "calendar-multiget"}},
		{"no sync-collection", davtest.Fault{HideSync: true},
			[]string{"PROPFIND depth 1"},
			[]string{"PROPFIND depth 1", "PROPFIND depth 0", "calendar-query"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := davtest.NewProxy(t, srv.URL)
			proxy.AddFault(&tt.fault)
			s, _ := newTestSource(t, Options{URL: proxy.URL + srv.Home, Username: srv.Username, Password: srv.Password})
			store := &ksync.MemItems{}
			v1, first := updateLoad(t, s, store)
			step := func(name string, want []string) (string, []string) {
				t.Helper()
				proxy.Reset()
				v, lines := updateLoad(t, s, store)
				var got []string
				for _, r := range proxy.Requests() {
					got = append(got, r.Kind)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: requests %q, want %q", name, got, want)
				}
				return v, lines
			}
			if v, lines := step("nothing changed", tt.unchanged); v != v1 || !slices.Equal(lines, first) {
				t.Errorf("nothing changed, yet version %s (was %s) and\n%s", v, v1, strings.Join(lines, "\n"))
			}
			uid := "lunch-" + strings.ReplaceAll(tt.name, " ", "-")
			putEvent(t, srv, srv.Home+"work/"+uid+".ics", lunchICS(uid, "20261124"))
			defer srv.DeleteCard(t, srv.Home+"work/"+uid+".ics")
			if _, lines := step("event added", tt.changed); !slices.Contains(lines, "2026-11-24 cal "+uid+"/2026-11-24 people=1 who=alice@example.com") {
				t.Errorf("the new event is not seen:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// A recurring event's coming occurrences are kept in the state, soonMax of
// them: each counts once it has begun with no request, and the object is
// read again only when the first one not kept begins.
func TestCalDAVRecurringEventFromState(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srv.MakeCalendar(t, srv.Home+"work/", "Work", "VEVENT")
	putEvent(t, srv, srv.Home+"work/walk.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//kith//test//EN\nBEGIN:VEVENT\n"+
		"UID:walk@example.org\nDTSTAMP:20261101T090000Z\nDTSTART:20261126T080000Z\nDTEND:20261126T083000Z\n"+
		"RRULE:FREQ=DAILY;COUNT=40\nORGANIZER:mailto:me@example.org\nATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n"+
		"END:VEVENT\nEND:VCALENDAR\n")
	proxy := davtest.NewProxy(t, srv.URL)
	s, _ := newTestSource(t, Options{URL: proxy.URL + srv.Home, Username: srv.Username, Password: srv.Password})
	clock := now
	s.opts.Now = func() time.Time { return clock }
	store := &ksync.MemItems{}
	if _, lines := updateLoad(t, s, store); len(lines) != 0 {
		t.Fatalf("before the first walk:\n%s", strings.Join(lines, "\n"))
	}
	for _, tt := range []struct {
		at    time.Time
		walks int
		want  []string
	}{
		{time.Date(2026, 11, 26, 7, 59, 0, 0, time.UTC), 0, []string{"PROPFIND depth 1"}},
		{time.Date(2026, 11, 26, 8, 1, 0, 0, time.UTC), 1, []string{"PROPFIND depth 1"}},
		{time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), 5, []string{"PROPFIND depth 1"}},
		{time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC), soonMax, []string{"PROPFIND depth 1"}},
		// The first occurrence not kept has begun: the object is read.
		{time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC), soonMax + 1, []string{"PROPFIND depth 1", "calendar-multiget (1)"}},
		{time.Date(2026, 12, 13, 9, 0, 0, 0, time.UTC), soonMax + 2, []string{"PROPFIND depth 1"}},
	} {
		clock = tt.at
		proxy.Reset()
		_, lines := updateLoad(t, s, store)
		if k := kinds(proxy); !slices.Equal(k, tt.want) {
			t.Errorf("%s: requests %q, want %q", tt.at, k, tt.want)
		}
		if len(lines) != tt.walks {
			t.Errorf("%s: %d walks, want %d:\n%s", tt.at, len(lines), tt.walks, strings.Join(lines, "\n"))
		}
	}
}

// A box stored before occurrences were kept (a day as its Next) is read
// again on that day, from its midnight in the source's zone, and then
// not again.
func TestCalDAVDayCursorUpgrades(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srv.MakeCalendar(t, srv.Home+"work/", "Work", "VEVENT")
	putEvent(t, srv, srv.Home+"work/dinner.ics", lunchICS("dinner@example.org", "20261127"))
	proxy := davtest.NewProxy(t, srv.URL)
	s, _ := newTestSource(t, Options{URL: proxy.URL + srv.Home, Username: srv.Username, Password: srv.Password})
	clock := now
	s.opts.Now = func() time.Time { return clock }
	store := &ksync.MemItems{}
	updateLoad(t, s, store)
	// Write the box back as the previous version kept it.
	curs, _ := store.Cursors(context.Background(), "cal")
	for box, cur := range curs {
		if !strings.HasPrefix(box, calBox) {
			continue
		}
		items, _ := store.Items(context.Background(), "cal", box)
		c := parseCalCursor(cur)
		c.Next = "2026-11-27"
		ch := ksync.BoxChange{Box: box, Reset: true, Put: map[string][]byte{}, Cursor: c.String()}
		for h := range items {
			ch.Put[h] = []byte(`{"n":"2026-11-27"}`)
		}
		if err := store.Update(context.Background(), "cal", ch); err != nil {
			t.Fatal(err)
		}
	}
	dinner := "2026-11-27 cal dinner@example.org/2026-11-27 people=1 who=alice@example.com"
	for _, tt := range []struct {
		at     time.Time
		want   []string
		dinner bool
	}{
		{time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC), []string{"PROPFIND depth 1"}, false},
		{time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC), []string{"PROPFIND depth 1", "calendar-multiget (1)"}, false}, // Berlin's midnight
		{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), []string{"PROPFIND depth 1"}, false},
		{time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC), []string{"PROPFIND depth 1"}, true},
	} {
		clock = tt.at
		proxy.Reset()
		_, lines := updateLoad(t, s, store)
		if k := kinds(proxy); !slices.Equal(k, tt.want) {
			t.Errorf("%s: requests %q, want %q", tt.at, k, tt.want)
		}
		if slices.Contains(lines, dinner) != tt.dinner {
			t.Errorf("%s: dinner counted %v, want %v", tt.at, !tt.dinner, tt.dinner)
		}
	}
}
