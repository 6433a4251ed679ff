package report

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"kith/sync/decay"
)

// MarshalJSON writes empty lists as [] rather than null, so that readers
// of report.json need not tell the two apart.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	if p.Contacts == nil {
		p.Contacts = []Contact{}
	}
	if p.Actions == nil {
		p.Actions = []Action{}
	}
	if p.PossibleDuplicates == nil {
		p.PossibleDuplicates = []Duplicate{}
	}
	if p.Circles == nil {
		p.Circles = []CircleSize{}
	}
	if p.History == nil {
		p.History = []Week{}
	}
	return json.Marshal(p)
}

// listMax is how many contacts a list in a rendered report shows.
const listMax = 15

// view is what the renderers show, worked out once from a Report.
type view struct {
	Date       string
	Total      int
	Counts     []stateCount
	Actions    []Action
	FollowUps  list
	Fading     list
	Reviving   list
	Duplicates []Duplicate
	// DupsMore counts the possible duplicates not shown; DupsTotal is all
	// of them (report.json's list and the ones it left out).
	DupsMore, DupsTotal int

	Weeks    []Week
	Circles  []CircleSize
	Since    []bucket
	Left     []Left
	LeftMore int
}

type stateCount struct {
	State string
	N     int
}

// list is a section of contacts, cut at listMax.
type list struct {
	Items []Contact
	More  int
}

func cut(cs []Contact) list {
	if len(cs) > listMax {
		return list{Items: cs[:listMax], More: len(cs) - listMax}
	}
	return list{Items: cs}
}

// bucket is one bar of the days-since histogram.
type bucket struct {
	Label string
	Max   int // largest day count in the bucket; -1 for "never"
	N     int
}

// newView works out the sections of r.
func newView(r *Report) *view {
	v := &view{
		Date:    r.GeneratedAt.Format("2 Jan 2006"),
		Total:   len(r.Contacts),
		Circles: r.Circles,
	}
	// Every string a user or a card supplied is made plain once, here.
	for _, a := range r.Actions {
		a.Name, a.Reason = plain(a.Name), plain(a.Reason)
		v.Actions = append(v.Actions, a)
	}
	v.DupsTotal = len(r.PossibleDuplicates) + r.DuplicatesMore
	for i, d := range r.PossibleDuplicates {
		if i == listMax {
			v.DupsMore = v.DupsTotal - listMax
			break
		}
		d.A.Name, d.B.Name, d.Reason = plain(d.A.Name), plain(d.B.Name), plain(d.Reason)
		v.Duplicates = append(v.Duplicates, d)
	}
	for i, l := range r.Left {
		if i == listMax {
			v.LeftMore = len(r.Left) - listMax
			break
		}
		l.Name, l.UID = plain(l.Name), plain(l.UID)
		v.Left = append(v.Left, l)
	}
	counts := r.StateCounts()
	for _, s := range decay.States() {
		if n := counts[string(s)]; n > 0 {
			v.Counts = append(v.Counts, stateCount{string(s), n})
		}
	}
	days := func(c Contact) int {
		if c.DaysSince == nil {
			return -1
		}
		return *c.DaysSince
	}
	byName := func(a, b Contact) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.UID, b.UID))
	}
	var follow, fading, reviving []Contact
	for _, c := range r.Contacts {
		c.Name, c.Reason = plain(c.Name), plain(c.Reason)
		close := c.Circle == decay.CircleInner || c.Circle == decay.CircleClose
		overdue := c.State == string(decay.StateDue) || c.State == string(decay.StateFading) || c.State == string(decay.StateCold)
		switch {
		case c.State == string(decay.StateFollowUp):
			follow = append(follow, c)
		case close && (c.State == string(decay.StateFading) || c.State == string(decay.StateCold)):
			fading = append(fading, c)
		case !close && overdue:
			// Friends and acquaintances out of touch, the most shared
			// history first; the inner circles have their own list.
			reviving = append(reviving, c)
		}
	}
	// Follow-ups whose window closes soonest first; fading contacts the
	// longest gone first; the others by how much history there is to revive.
	slices.SortFunc(follow, func(a, b Contact) int { return cmp.Or(cmp.Compare(days(b), days(a)), byName(a, b)) })
	slices.SortFunc(fading, func(a, b Contact) int { return cmp.Or(cmp.Compare(days(b), days(a)), byName(a, b)) })
	slices.SortFunc(reviving, func(a, b Contact) int { return cmp.Or(cmp.Compare(b.Bond, a.Bond), byName(a, b)) })
	v.FollowUps, v.Fading, v.Reviving = cut(follow), cut(fading), cut(reviving)

	thisWeek := WeekOf(r.GeneratedAt)
	for _, w := range r.History {
		if w.Start < thisWeek {
			v.Weeks = append(v.Weeks, w)
		}
	}
	v.Weeks = append(v.Weeks, Week{Start: thisWeek, Counts: counts})
	if len(v.Weeks) > maxWeeks {
		v.Weeks = v.Weeks[len(v.Weeks)-maxWeeks:]
	}

	v.Since = []bucket{
		{"≤ 1 week", 7, 0}, {"≤ 1 month", 30, 0}, {"≤ 3 months", 91, 0}, {"≤ 6 months", 182, 0},
		{"≤ 1 year", 365, 0}, {"≤ 3 years", 3 * 365, 0}, {"longer", int(^uint(0) >> 1), 0}, {"never", -1, 0},
	}
	for _, c := range r.Contacts {
		if c.State == "" { // not assessed
			continue
		}
		d := days(c)
		for i := range v.Since {
			if (d < 0 && v.Since[i].Max < 0) || (d >= 0 && d <= v.Since[i].Max) {
				v.Since[i].N++
				break
			}
		}
	}
	return v
}

// maxWeeks is how many weeks the history chart shows: half a year.
const maxWeeks = 26

// verb says what an action asks the user to do.
func verb(state string) string {
	if state == string(decay.StateFollowUp) {
		return "Follow up with"
	}
	return "Get in touch with"
}

// Plain is plain, for the commands that print names from cards.
func Plain(s string) string { return plain(s) }

// plain replaces control characters and bidi overrides with spaces, so that
// a name cannot move the cursor, recolour a terminal, reverse the text after
// it or break a Markdown line.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') { // bidi overrides
			return ' '
		}
		return r
	}, s)
}
