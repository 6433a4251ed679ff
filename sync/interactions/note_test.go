package interactions

import (
	"fmt"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
)

// now is the fixed clock of these tests: Wednesday 25 November 2026, evening.
var now = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseNoteFormats(t *testing.T) {
	nov20 := day(2026, 11, 20)
	tests := []struct {
		name     string
		line     string
		dayFirst bool
		want     time.Time // zero: not a log line
	}{
		{"iso", "2026-11-20 coffee, talked about hiring", false, nov20},
		{"iso colon", "2026-11-20: coffee", false, nov20},
		{"iso single digits", "2026-1-5 lunch", false, day(2026, 1, 5)},
		{"iso slashes", "2026/11/20 lunch", false, nov20},
		{"iso alone", "2026-11-20", false, nov20},
		{"dotted", "20.11.2026 lunch", false, nov20},
		{"dotted short", "5.1.2026 lunch", false, day(2026, 1, 5)},
		{"dotted month name", "20. November 2026 Kaffee", false, nov20},
		{"dotted abbreviation", "20. Nov. 2026 Kaffee", false, nov20},
		{"dotted no space", "20.Nov.2026 Kaffee", false, nov20},
		{"german month", "3. März 2026 Anruf", false, day(2026, 3, 3)},
		{"german month ascii", "3. Maerz 2026 Anruf", false, day(2026, 3, 3)},
		{"german december", "24. Dezember 2025 besucht", false, day(2025, 12, 24)},
		{"german okt", "1 Okt 2026 Treffen", false, day(2026, 10, 1)},
		{"austrian jänner", "7. Jänner 2026 Treffen", false, day(2026, 1, 7)},
		{"day month year", "20 Nov 2026 dinner", false, nov20},
		{"day full month year", "20 November 2026 dinner", false, nov20},
		{"day month comma year", "20 Nov, 2026 dinner", false, nov20},
		{"month day comma year", "Nov 20, 2026 call", false, nov20},
		{"month day year", "November 20 2026 call", false, nov20},
		{"month dot day", "Nov. 20, 2026 call", false, nov20},
		{"month ordinal", "November 20th, 2026 call", false, nov20},
		{"lower case month", "nov 20, 2026 call", false, nov20},
		{"slash day first", "20/11/2026 call", true, nov20},
		{"slash month first", "11/20/2026 call", false, nov20},
		{"slash only day-first valid", "20/11/2026 call", false, nov20},
		{"slash only month-first valid", "11/20/2026 call", true, nov20},
		{"ambiguous day first", "03/04/2026 call", true, day(2026, 4, 3)},
		{"ambiguous month first", "03/04/2026 call", false, day(2026, 3, 4)},
		{"bullet dash", "- 2026-11-20 coffee", false, nov20},
		{"bullet star", "  * 20.11.2026 coffee", false, nov20},
		{"bullet dot", "• Nov 20, 2026 coffee", false, nov20},
		{"bullet no space", "-2026-11-20 coffee", false, nov20},
		{"leading spaces", "   2026-11-20 coffee", false, nov20},
		{"carriage return", "2026-11-20 coffee\r", false, nov20},
		{"leap day", "29.02.2024 lunch", false, day(2024, 2, 29)},

		{"31 february", "31.02.2026 lunch", false, time.Time{}},
		{"29 february no leap", "29.02.2026 lunch", false, time.Time{}},
		{"month 13", "2026-13-01 lunch", false, time.Time{}},
		{"day 32", "32.01.2026 lunch", false, time.Time{}},
		{"day zero", "0.01.2026 lunch", false, time.Time{}},
		{"both over 12", "13/13/2026 call", false, time.Time{}},
		{"two digit year dotted", "20.11.26 lunch", false, time.Time{}},
		{"two digit year slashed", "11/20/26 lunch", false, time.Time{}},
		{"two digit year named", "20 Nov 26 lunch", false, time.Time{}},
		{"five digit year", "20.11.20261 lunch", false, time.Time{}},
		{"date in middle", "coffee on 2026-11-20 with Anna", false, time.Time{}},
		{"date in middle named", "We met on 20 Nov 2026", false, time.Time{}},
		{"no year", "20 Nov coffee", false, time.Time{}},
		{"glued text", "2026-11-20coffee", false, time.Time{}},
		{"iso with time", "2026-11-20T10:00 coffee", false, time.Time{}},
		{"phone number", "0171 2345678", false, time.Time{}},
		{"version", "1.2.3 release", false, time.Time{}},
		{"not a month", "20 Foo 2026 coffee", false, time.Time{}},
		{"ancient year", "20.11.0026 coffee", false, time.Time{}},
		{"two bullets", "- - 2026-11-20 coffee", false, time.Time{}},
		{"empty", "", false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, plans := ParseNote(tt.line, now, Options{DayFirst: tt.dayFirst})
			if len(plans) != 0 {
				t.Fatalf("ParseNote(%q) gave plans %v", tt.line, plans)
			}
			if tt.want.IsZero() {
				if len(found) != 0 {
					t.Fatalf("ParseNote(%q) = %v, want no interaction", tt.line, found)
				}
				return
			}
			if len(found) != 1 {
				t.Fatalf("ParseNote(%q) found %d interactions, want 1", tt.line, len(found))
			}
			if got := found[0].Date; !got.Equal(tt.want) {
				t.Errorf("ParseNote(%q) date = %s, want %s", tt.line, got.Format(time.DateOnly), tt.want.Format(time.DateOnly))
			}
			if found[0].Source != Source || found[0].People != 1 {
				t.Errorf("ParseNote(%q) = %+v, want source %q and 1 person", tt.line, found[0], Source)
			}
		})
	}
}

func TestParseNoteKinds(t *testing.T) {
	tests := []struct{ text, want string }{
		{"coffee, talked about hiring", ksync.KindMeeting},
		{"Lunch at Luigi's", ksync.KindMeeting},
		{"met at the conference", ksync.KindMeeting},
		{"visited them in Lyon", ksync.KindMeeting},
		{"Kaffee am Markt", ksync.KindMeeting},
		{"called about the flat", ksync.KindCall},
		{"phoned, she is moving", ksync.KindCall},
		{"rang him back", ksync.KindCall},
		{"Zoom about the project", ksync.KindCall},
		{"video chat with the kids", ksync.KindCall},
		{"telefoniert", ksync.KindCall},
		{"texted happy birthday", ksync.KindMessage},
		{"WhatsApp: photos from the trip", ksync.KindMessage},
		{"Signal message", ksync.KindMessage},
		{"emailed the slides", ksync.KindMailSent},
		{"sent an e-mail", ksync.KindMailSent},
		{"card scanned at the fair", ksync.KindCard},
		{"call about lunch", ksync.KindCall},
		{"lunch, then a call", ksync.KindMeeting},
		{"method discussion", ksync.KindMeeting},
		{"recalled old times", ksync.KindMeeting},
		{"", ksync.KindMeeting},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			found, _ := ParseNote("2026-11-20 "+tt.text, now, Options{})
			if len(found) != 1 || found[0].Kind != tt.want {
				t.Errorf("ParseNote(%q) = %+v, want kind %s", tt.text, found, tt.want)
			}
		})
	}
}

func TestParseNotePlans(t *testing.T) {
	note := "2026-11-25 lunch today\n2026-11-26 call tomorrow\n2027-01-10 visit in Berlin"
	found, plans := ParseNote(note, now, Options{})
	if len(found) != 1 || !found[0].Date.Equal(day(2026, 11, 25)) {
		t.Errorf("interactions = %+v, want only today's lunch", found)
	}
	want := []Plan{
		{Date: day(2026, 11, 26), Kind: ksync.KindCall, Text: "call tomorrow", Ref: "2026-11-26#1"},
		{Date: day(2027, 1, 10), Kind: ksync.KindMeeting, Text: "visit in Berlin", Ref: "2027-01-10#1"},
	}
	if len(plans) != len(want) {
		t.Fatalf("plans = %+v, want %+v", plans, want)
	}
	for i := range want {
		if !plans[i].Date.Equal(want[i].Date) || plans[i].Kind != want[i].Kind || plans[i].Text != want[i].Text || plans[i].Ref != want[i].Ref {
			t.Errorf("plan %d = %+v, want %+v", i, plans[i], want[i])
		}
	}
}

// TestParseNoteTodayInLocalTime checks that "today" is now's calendar day
// where the user is, not in UTC.
func TestParseNoteTodayInLocalTime(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	// 25 Nov 21:00 UTC is already 26 Nov in Tokyo.
	found, plans := ParseNote("2026-11-26 breakfast", now.In(tokyo), Options{})
	if len(found) != 1 || len(plans) != 0 {
		t.Errorf("in Tokyo, 26 Nov is today: found %v, plans %v", found, plans)
	}
}

func refs(found []ksync.Interaction) map[string]time.Time {
	out := map[string]time.Time{}
	for _, in := range found {
		out[in.Ref] = in.Date
	}
	return out
}

// TestParseNoteRefsStable checks that a line keeps its Ref when the text
// around it and its own wording change, so that it counts once.
func TestParseNoteRefsStable(t *testing.T) {
	before := "Met at FOSDEM.\n2026-02-01 coffee\n2026-03-10 call about the job\n2026-03-10 lunch"
	after := "Works at ACME now; likes climbing.\n\n- 2026-03-10 long call about the new job\n* 2026-03-10 lunch with her team\nrandom thought\n1.2.2026 coffee, first met"
	b, _ := ParseNote(before, now, Options{})
	a, _ := ParseNote(after, now, Options{DayFirst: true})
	rb, ra := refs(b), refs(a)
	if len(rb) != 3 || len(ra) != 3 {
		t.Fatalf("refs before %v, after %v: want 3 each", rb, ra)
	}
	for ref, d := range rb {
		if !ra[ref].Equal(d) {
			t.Errorf("ref %s (%s) lost after edit; after: %v", ref, d.Format(time.DateOnly), ra)
		}
	}
	if _, ok := ra["2026-03-10#2"]; !ok {
		t.Errorf("second line of 2026-03-10 should be #2: %v", ra)
	}
}

func TestParseNoteIgnoresProse(t *testing.T) {
	note := strings.Join([]string{
		"Anna's sister. Birthday 1990-05-04 per her.",
		"Call her about 2026-11-20 maybe",
		"IBAN DE12 3456 7890",
		"Tel. 030 1234567",
		"Room 12.3.2026B",
	}, "\n")
	found, plans := ParseNote(note, now, Options{})
	if len(found)+len(plans) != 0 {
		t.Errorf("prose gave %v %v", found, plans)
	}
}

func FuzzParseNote(f *testing.F) {
	for _, s := range []string{
		"2026-11-20 coffee, talked about hiring",
		"20.11.2026 Kaffee\n- 20/11/2026 call\n* Nov 20, 2026 text",
		"20. November 2026\r\n3. März 2026 Anruf",
		"03/04/2026 call\n31.02.2026 lunch\n2027-01-01 plan",
		"• 1 Okt 2026 Treffen",
		"November 20th, 2026",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, note string, dayFirst bool) {
		found, plans := ParseNote(note, now, Options{DayFirst: dayFirst})
		today := day(2026, 11, 25)
		seen := map[string]bool{}
		for _, in := range found {
			if in.Date.After(today) || in.Date.Hour() != 0 || in.Date.Location() != time.UTC {
				t.Errorf("interaction date %v: want UTC midnight on or before today", in.Date)
			}
			if in.Kind == "" || in.Source != Source || seen[in.Ref] {
				t.Errorf("bad interaction %+v", in)
			}
			if !strings.HasPrefix(in.Ref, in.Date.Format(time.DateOnly)+"#") {
				t.Errorf("ref %q does not name date %v", in.Ref, in.Date)
			}
			seen[in.Ref] = true
		}
		for _, p := range plans {
			if !p.Date.After(today) || seen[p.Ref] {
				t.Errorf("bad plan %+v", p)
			}
			seen[p.Ref] = true
		}
		if n := strings.Count(note, "\n") + 1; len(found)+len(plans) > n {
			t.Errorf("%d results from %d lines", len(found)+len(plans), n)
		}
	})
}

func BenchmarkParseNote(b *testing.B) {
	var lines []string
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("- %02d.%02d.2025 coffee with the team, talked about plans", 1+i%28, 1+i%12), "some prose line without a date")
	}
	note := strings.Join(lines, "\n")
	for b.Loop() {
		ParseNote(note, now, Options{DayFirst: true})
	}
}
