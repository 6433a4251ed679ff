package decay

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	ksync "kith/sync"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC)

// ago returns an interaction of kind daysAgo days before now.
func at(daysAgo int, kind string) ksync.Interaction {
	return ksync.Interaction{Date: time.Date(2026, 11, 25-daysAgo, 0, 0, 0, 0, time.UTC), Kind: kind, Source: "note", People: 1}
}

func meetings(daysAgo ...int) []ksync.Interaction {
	var out []ksync.Interaction
	for _, d := range daysAgo {
		out = append(out, at(d, ksync.KindMeeting))
	}
	return out
}

// every returns meetings every step days from first days ago back to last.
func every(step, first, last int) []ksync.Interaction {
	var days []int
	for d := first; d <= last; d += step {
		days = append(days, d)
	}
	return meetings(days...)
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name       string
		in         Input
		state      State
		circle     string
		set        bool
		reason     string // exact; "" to skip
		expected   int
		daysSince  int
		contactDay int // 0 to skip
	}{
		{
			name:  "nothing known",
			in:    Input{},
			state: StateNone, reason: "no interaction known", daysSince: -1,
		},
		{
			name:  "category without interactions",
			in:    Input{Categories: []string{"kith-close"}},
			state: StateNone, circle: CircleClose, set: true, expected: 30, daysSince: -1,
		},
		{
			name:  "close fading, the issue's example",
			in:    Input{Interactions: meetings(75, 200), Categories: []string{"kith-close"}},
			state: StateFading, circle: CircleClose, set: true, expected: 30, daysSince: 75,
			reason: "last met 75 days ago; close circle expects 30",
		},
		{
			name:  "inner due",
			in:    Input{Interactions: every(7, 9, 300), Categories: []string{"kith-inner"}},
			state: StateDue, circle: CircleInner, set: true, expected: 7, daysSince: 9,
			reason: "last met 9 days ago; inner circle expects 7",
		},
		{
			name:  "inferred inner from weekly contact",
			in:    Input{Interactions: every(7, 2, 360)},
			state: StateHealthy, circle: CircleInner, expected: 7, daysSince: 2,
			reason: "last met 2 days ago; inner circle (inferred) expects 7",
		},
		{
			name:  "inferred close from monthly contact",
			in:    Input{Interactions: every(30, 10, 360)},
			state: StateHealthy, circle: CircleClose, expected: 30, daysSince: 10,
		},
		{
			name:  "inferred friends from quarterly contact",
			in:    Input{Interactions: every(100, 150, 360)},
			state: StateFading, circle: CircleFriends, expected: 90, daysSince: 150,
			reason: "last met 150 days ago; friends circle (inferred) expects 90",
		},
		{
			name:  "innermost category wins, any case",
			in:    Input{Interactions: meetings(3, 40), Categories: []string{"kith-friends", "KITH-Inner", "work"}},
			state: StateHealthy, circle: CircleInner, set: true, expected: 7,
		},
		{
			name:  "family doubles the interval",
			in:    Input{Interactions: meetings(45, 100), Categories: []string{"kith-close", "Family"}},
			state: StateHealthy, circle: CircleClose, set: true, expected: 60,
			reason: "last met 45 days ago; close circle (family) expects 60",
		},
		{
			name:  "family fading",
			in:    Input{Interactions: meetings(100, 300), Categories: []string{"kith-family", "kith-close"}},
			state: StateFading, circle: CircleClose, set: true, expected: 60,
		},
		{
			name:  "follow-up after a first meeting",
			in:    Input{Interactions: meetings(5), FirstSeen: now.AddDate(0, 0, -5)},
			state: StateFollowUp, circle: CircleActive, expected: 365, daysSince: 5,
			reason: "first met 5 days ago and nothing since; follow up within 25 days",
		},
		{
			name:  "follow-up after a card scan, first seen unknown",
			in:    Input{Interactions: []ksync.Interaction{at(12, ksync.KindCard)}},
			state: StateFollowUp, daysSince: 12,
			reason: "cards exchanged 12 days ago and nothing since; follow up within 18 days",
		},
		{
			name:  "follow-up on the last day of the window",
			in:    Input{Interactions: meetings(30)},
			state: StateFollowUp, reason: "first met 30 days ago and nothing since; follow up within 0 days",
		},
		{
			name:  "not flagged before day 3",
			in:    Input{Interactions: meetings(1)},
			state: StateHealthy, reason: "first met yesterday",
		},
		{
			name:  "window passed",
			in:    Input{Interactions: meetings(31)},
			state: StateHealthy, circle: CircleActive, expected: 365,
		},
		{
			name:  "old contact, first logged meeting is no first meeting",
			in:    Input{Interactions: meetings(5), FirstSeen: now.AddDate(-3, 0, 0)},
			state: StateHealthy, circle: CircleActive,
			reason: "last met 5 days ago; active circle (inferred) expects 365",
		},
		{
			name:  "a received mail asks for no follow-up",
			in:    Input{Interactions: []ksync.Interaction{at(5, ksync.KindMailRecv)}},
			state: StateHealthy, reason: "last mail received 5 days ago; active circle (inferred) expects 365",
		},
		{
			name:  "second interaction ends the follow-up",
			in:    Input{Interactions: []ksync.Interaction{at(10, ksync.KindMeeting), at(4, ksync.KindMailSent)}},
			state: StateHealthy, reason: "last mail sent 4 days ago; active circle (inferred) expects 365",
		},
		{
			name:  "several on one day count once",
			in:    Input{Interactions: append(meetings(6, 6, 6), at(6, ksync.KindCall), at(6, ksync.KindMessage))},
			state: StateFollowUp, contactDay: 1,
		},
		{
			name:  "one-off long ago is dormant",
			in:    Input{Interactions: meetings(1500)},
			state: StateDormant, circle: CircleActive, daysSince: 1500,
			reason: "last met about 4 years ago; only 1 day of contact ever, not nagged",
		},
		{
			name:  "two meetings long ago are dormant",
			in:    Input{Interactions: meetings(1200, 1300)},
			state: StateDormant, reason: "last met about 3 years ago; only 2 days of contact ever, not nagged",
		},
		{
			name:  "shared history gone cold",
			in:    Input{Interactions: every(20, 1200, 1500)},
			state: StateCold, circle: CircleActive,
			reason: "last met about 3 years ago; active circle (inferred) expects 365",
		},
		{
			name:  "one-off in a circle the user set is cold, not dormant",
			in:    Input{Interactions: meetings(400), Categories: []string{"kith-friends"}},
			state: StateCold, circle: CircleFriends, set: true,
			reason: "last met 400 days ago; friends circle expects 90",
		},
		{
			name:  "future interactions are plans, ignored",
			in:    Input{Interactions: append(meetings(75, 200), at(-3, ksync.KindMeeting)), Categories: []string{"kith-close"}},
			state: StateFading, set: true, daysSince: 75, contactDay: 2,
		},
		{
			name:  "big events weigh little in inference",
			in:    Input{Interactions: groupEvents(30, 6)},
			state: StateHealthy, circle: CircleClose,
		},
		{
			name:  "last of each kind is named",
			in:    Input{Interactions: []ksync.Interaction{at(300, ksync.KindMeeting), at(200, ksync.KindCall)}, Categories: []string{"kith-close"}},
			state: StateCold, set: true, reason: "last call 200 days ago; close circle expects 30",
		},
	}
	p := DefaultParams()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Assess(tt.in, now, p)
			if a.State != tt.state {
				t.Errorf("State = %s, want %s (reason %q)", a.State, tt.state, a.Reason)
			}
			if tt.circle != "" && a.Circle != tt.circle {
				t.Errorf("Circle = %q, want %q (year score %.2f)", a.Circle, tt.circle, a.YearScore)
			}
			if a.CircleSet != tt.set {
				t.Errorf("CircleSet = %v, want %v", a.CircleSet, tt.set)
			}
			if tt.reason != "" && a.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", a.Reason, tt.reason)
			}
			if tt.expected != 0 && a.Expected != tt.expected {
				t.Errorf("Expected = %d, want %d", a.Expected, tt.expected)
			}
			if tt.daysSince != 0 && a.DaysSince != tt.daysSince {
				t.Errorf("DaysSince = %d, want %d", a.DaysSince, tt.daysSince)
			}
			if tt.contactDay != 0 && a.ContactDays != tt.contactDay {
				t.Errorf("ContactDays = %d, want %d", a.ContactDays, tt.contactDay)
			}
			if a.Strength < 0 || a.Strength >= 1 || a.Bond < 0 || a.Bond >= 1 {
				t.Errorf("Strength %v, Bond %v: want 0 ≤ x < 1", a.Strength, a.Bond)
			}
			if (a.Last == nil) != (a.State == StateNone) {
				t.Errorf("Last = %v with state %s", a.Last, a.State)
			}
			if strings.Contains(a.Reason, "\n") || a.Reason == "" {
				t.Errorf("Reason %q: want one line", a.Reason)
			}
		})
	}
}

func groupEvents(n, people int) []ksync.Interaction {
	var out []ksync.Interaction
	for i := range n {
		in := at(2+i*10, ksync.KindEvent)
		in.People = people
		out = append(out, in)
	}
	return out
}

// TestAssessLastIsHeaviestOfItsDay checks that the day's strongest
// interaction names the last contact.
func TestAssessLastIsHeaviestOfItsDay(t *testing.T) {
	in := Input{Interactions: []ksync.Interaction{at(3, ksync.KindMailSent), at(3, ksync.KindMeeting), at(3, ksync.KindCall), at(50, ksync.KindMeeting)}}
	a := Assess(in, now, DefaultParams())
	if a.Last == nil || a.Last.Kind != ksync.KindMeeting || a.DaysSince != 3 {
		t.Errorf("Last = %+v, DaysSince %d; want the meeting 3 days ago", a.Last, a.DaysSince)
	}
}

func TestAssessStrength(t *testing.T) {
	p := DefaultParams()
	cats := []string{"kith-close"}
	recent := Assess(Input{Interactions: meetings(2, 30, 60), Categories: cats}, now, p)
	stale := Assess(Input{Interactions: meetings(62, 90, 120), Categories: cats}, now, p)
	single := Assess(Input{Interactions: meetings(0)}, now, p)
	if recent.Strength <= stale.Strength {
		t.Errorf("recent contact strength %.3f should beat stale %.3f", recent.Strength, stale.Strength)
	}
	if single.Strength != 0.5 {
		t.Errorf("one meeting today: strength %v, want 0.5", single.Strength)
	}
	long := Assess(Input{Interactions: every(30, 100, 3000)}, now, p)
	oneOff := Assess(Input{Interactions: meetings(100)}, now, p)
	if long.Bond <= oneOff.Bond {
		t.Errorf("years of contact: bond %.3f should beat a one-off's %.3f", long.Bond, oneOff.Bond)
	}
}

// TestAssessLocalDay checks that "today" is the user's calendar day.
func TestAssessLocalDay(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	in := Input{Interactions: []ksync.Interaction{{Date: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Kind: ksync.KindMeeting}}}
	if a := Assess(in, now.In(tokyo), DefaultParams()); a.DaysSince != 0 {
		t.Errorf("in Tokyo it is 26 Nov: DaysSince = %d, want 0", a.DaysSince)
	}
}

func TestOnePerDay(t *testing.T) {
	late := at(4, ksync.KindMessage)
	late.Date = late.Date.Add(20 * time.Hour)
	got := OnePerDay([]ksync.Interaction{at(1, ksync.KindMailSent), late, at(4, ksync.KindCall), at(1, ksync.KindMailRecv), at(-1, ksync.KindMeeting)}, now, DefaultParams())
	if len(got) != 2 || got[0].Kind != ksync.KindCall || got[1].Kind != ksync.KindMailSent {
		t.Fatalf("OnePerDay = %+v, want the call 4 days ago and the sent mail yesterday", got)
	}
	if got[0].Date.Hour() != 0 {
		t.Errorf("dates should be whole days, got %v", got[0].Date)
	}
}

func TestValidate(t *testing.T) {
	if p := DefaultParams(); p.Validate() != nil {
		t.Fatalf("defaults invalid: %v", p.Validate())
	}
	tests := []struct {
		name   string
		change func(*Params)
		key    string
	}{
		{"zero days", func(p *Params) { p.Inner.Days = 0 }, "decay.inner.days"},
		{"circles out of order", func(p *Params) { p.Friends.Days = 20 }, "decay.friends.days"},
		{"negative size", func(p *Params) { p.Close.Size = -1 }, "decay.close.size"},
		{"score rises outward", func(p *Params) { p.Active.MinScore = 10 }, "decay.active.min_score"},
		{"empty category", func(p *Params) { p.Close.Category = " " }, "decay.close.category"},
		{"same category twice", func(p *Params) { p.Close.Category = "KITH-inner" }, "decay.close.category"},
		{"family is a circle", func(p *Params) { p.FamilyCategories = []string{"kith-close"} }, "decay.family_categories"},
		{"family speeds decay", func(p *Params) { p.FamilyFactor = 0.5 }, "decay.family_factor"},
		{"thresholds out of order", func(p *Params) { p.Fading = 1.2 }, "decay.fading"},
		{"follow-up from after window", func(p *Params) { p.FollowUpFromDay = 40 }, "decay.follow_up_from_day"},
		{"unknown kind", func(p *Params) { p.FollowUpKinds = []string{"telepathy"} }, "decay.follow_up_kinds"},
		{"weight above 1", func(p *Params) { p.Weights.Call = 2 }, "decay.weights.call"},
		{"half-life zero", func(p *Params) { p.BondHalfLifeDays = 0 }, "decay.bond_half_life_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.change(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.key+":") {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.key)
			}
		})
	}
}

// TestParamsTOML checks the keys a user writes under [decay].
func TestParamsTOML(t *testing.T) {
	const doc = `
family_factor = 3
family_categories = ["Familie"]
follow_up_days = 21
[close]
days = 21
category = "close-friends"
[weights]
message = 0.5
`
	p := DefaultParams()
	md, err := toml.Decode(doc, &p)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("undecoded keys %v", und)
	}
	if p.FamilyFactor != 3 || p.Close.Days != 21 || p.Close.Size != 15 || p.Close.Category != "close-friends" ||
		p.Weights.Message != 0.5 || p.Weights.Meeting != 1 || p.FollowUpDays != 21 || p.FamilyCategories[0] != "Familie" {
		t.Errorf("decoded %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}
