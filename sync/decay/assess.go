package decay

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	ksync "kith/sync"
)

// State is what the model says about a relationship.
type State string

// States, from most to least in need of attention for a new contact, then by
// overdue ratio.
const (
	// StateFollowUp: first met recently and nothing since.
	StateFollowUp State = "follow-up"
	// StateHealthy: in touch as often as the circle expects.
	StateHealthy State = "healthy"
	// StateDue: a little overdue.
	StateDue State = "due"
	// StateFading: overdue up to about three intervals.
	StateFading State = "fading"
	// StateCold: overdue beyond that.
	StateCold State = "cold"
	// StateDormant: cold with little shared history; never nagged.
	StateDormant State = "dormant"
	// StateNone: no interaction known, nothing to judge.
	StateNone State = "none"
)

// States lists every state in the order reports show them.
func States() []State {
	return []State{StateFollowUp, StateHealthy, StateDue, StateFading, StateCold, StateDormant, StateNone}
}

// Input is what the model knows about one contact.
type Input struct {
	// UID and Name identify the contact; they are copied to the Assessment.
	UID  string
	Name string
	// Interactions are the contact's real interactions from every source.
	// Several on one day count once (the heaviest); later than now are ignored.
	Interactions []ksync.Interaction
	// Categories are the card's CATEGORIES values, unescaped.
	Categories []string
	// FirstSeen is when kith first saw the contact; zero when unknown. A
	// contact seen long before its first interaction is not a new one and
	// is never asked to be followed up.
	FirstSeen time.Time
}

// Assessment is the model's judgement of one contact.
type Assessment struct {
	UID  string
	Name string
	// Circle is CircleInner … CircleActive, or "" when no category sets it
	// and there is no interaction to infer it from.
	Circle string
	// CircleSet is true when a category set the circle, false when inferred.
	CircleSet bool
	// Family is true when a family category is set; Expected is then longer.
	Family bool
	// Expected is the circle's expected interval in days (C), 0 without a circle.
	Expected int
	// State is the verdict.
	State State
	// Reason says why, in one line a person reads.
	Reason string
	// Strength is how much in touch the contact is now, 0..1 (see package doc).
	Strength float64
	// Bond is the shared history, 0..1 (see package doc).
	Bond float64
	// Last is the latest interaction, nil when none is known.
	Last *ksync.Interaction
	// DaysSince is the number of days since Last, -1 when there is none.
	DaysSince int
	// Overdue is DaysSince / Expected (r), 0 when either is unknown.
	Overdue float64
	// ContactDays is the number of days with an interaction, ever.
	ContactDays int
	// YearScore is the weighted days of contact in the past 365 days, from
	// which the circle is inferred.
	YearScore float64
}

// OnePerDay returns the interactions with at most one per calendar day (the
// heaviest by p's weights; ties go to the first given), on or before now's
// day, oldest first. Dates are taken as calendar days in their own location.
func OnePerDay(ins []ksync.Interaction, now time.Time, p Params) []ksync.Interaction {
	today := dayOf(now)
	best := map[time.Time]int{}
	var out []ksync.Interaction
	for _, in := range ins {
		d := dayOf(in.Date)
		if d.After(today) {
			continue
		}
		in.Date = d
		if i, ok := best[d]; ok {
			if p.weight(in) > p.weight(out[i]) {
				out[i] = in
			}
			continue
		}
		best[d] = len(out)
		out = append(out, in)
	}
	slices.SortStableFunc(out, func(a, b ksync.Interaction) int { return a.Date.Compare(b.Date) })
	return out
}

// Assess judges one contact at time now.
func Assess(in Input, now time.Time, p Params) Assessment {
	a := Assessment{UID: in.UID, Name: in.Name, DaysSince: -1}
	today := dayOf(now)
	days := OnePerDay(in.Interactions, now, p)
	a.ContactDays = len(days)

	for _, c := range in.Categories {
		c = strings.TrimSpace(c)
		if contains(p.FamilyCategories, c) {
			a.Family = true
		}
		for _, circ := range p.circles() {
			// The innermost circle named wins.
			if strings.EqualFold(c, circ.c.Category) && (!a.CircleSet || rank(p, circ.name) < rank(p, a.Circle)) {
				a.Circle, a.CircleSet = circ.name, true
			}
		}
	}

	yearAgo := today.AddDate(-1, 0, 0)
	for _, d := range days {
		if d.Date.After(yearAgo) {
			a.YearScore += p.weight(d)
		}
	}
	if !a.CircleSet && len(days) > 0 {
		for _, circ := range p.circles() {
			if a.YearScore >= circ.c.MinScore {
				a.Circle = circ.name
				break
			}
		}
		if a.Circle == "" {
			a.Circle = CircleActive
		}
	}
	if c, ok := p.circle(a.Circle); ok {
		a.Expected = int(math.Round(float64(c.Days) * familyFactor(a.Family, p)))
	}

	if len(days) == 0 {
		a.State, a.Reason = StateNone, "no interaction known"
		return a
	}

	last := days[len(days)-1]
	a.Last = &last
	a.DaysSince = daysBetween(last.Date, today)
	a.Overdue = float64(a.DaysSince) / float64(a.Expected)

	bondHalf := p.BondHalfLifeDays
	if len(days) < 2 {
		bondHalf = p.NewTieHalfLifeDays
	}
	var touch, bond float64
	for _, d := range days {
		age := float64(daysBetween(d.Date, today))
		w := p.weight(d)
		touch += w * math.Exp2(-age/float64(a.Expected))
		bond += w * math.Exp2(-age/bondHalf)
	}
	a.Strength, a.Bond = touch/(1+touch), bond/(bondHalfScale+bond)

	circle := circlePhrase(a)
	switch {
	case len(days) == 1 && a.DaysSince <= p.FollowUpDays && contains(p.FollowUpKinds, last.Kind) &&
		(in.FirstSeen.IsZero() || daysBetween(dayOf(in.FirstSeen), last.Date) <= p.FollowUpDays):
		if a.DaysSince >= p.FollowUpFromDay {
			a.State = StateFollowUp
			a.Reason = fmt.Sprintf("%s and nothing since; follow up within %s",
				firstPhrase(last.Kind, a.DaysSince), plural(p.FollowUpDays-a.DaysSince, "day"))
		} else {
			a.State = StateHealthy
			a.Reason = firstPhrase(last.Kind, a.DaysSince)
		}
	case a.Overdue <= p.Healthy:
		a.State = StateHealthy
		a.Reason = fmt.Sprintf("%s; %s", lastPhrase(last.Kind, a.DaysSince), circle)
	case a.Overdue <= p.Due:
		a.State = StateDue
		a.Reason = fmt.Sprintf("%s; %s", lastPhrase(last.Kind, a.DaysSince), circle)
	case a.Overdue <= p.Fading:
		a.State = StateFading
		a.Reason = fmt.Sprintf("%s; %s", lastPhrase(last.Kind, a.DaysSince), circle)
	case !a.CircleSet && len(days) <= p.DormantMaxDays:
		a.State = StateDormant
		a.Reason = fmt.Sprintf("%s; only %s of contact ever, not nagged",
			lastPhrase(last.Kind, a.DaysSince), plural(len(days), "day"))
	default:
		a.State = StateCold
		a.Reason = fmt.Sprintf("%s; %s", lastPhrase(last.Kind, a.DaysSince), circle)
	}
	return a
}

// bondHalfScale is the shared history that scores 0.5: ten full-weight
// meetings' worth, after decay. A friend met monthly for years scores about
// 0.9, one met yearly about 0.4, a one-off meeting about 0.1.
const bondHalfScale = 10

// dayOf returns t's calendar day in its own location as UTC midnight.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween returns the whole days from a to b, both UTC midnights.
func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

func familyFactor(family bool, p Params) float64 {
	if family {
		return p.FamilyFactor
	}
	return 1
}

// rank is a circle's position, innermost 0; len(circles) when unknown.
func rank(p Params, name string) int {
	for i, c := range p.circles() {
		if c.name == name {
			return i
		}
	}
	return len(p.circles())
}

// circlePhrase says which circle and what it expects: "close circle expects
// 30", "close circle (inferred, family) expects 60".
func circlePhrase(a Assessment) string {
	var notes []string
	if !a.CircleSet {
		notes = append(notes, "inferred")
	}
	if a.Family {
		notes = append(notes, "family")
	}
	s := a.Circle + " circle"
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return fmt.Sprintf("%s expects %d", s, a.Expected)
}

// lastPhrase says what the last interaction was and when: "last met 75 days ago".
func lastPhrase(kind string, days int) string {
	var what string
	switch kind {
	case ksync.KindMeeting:
		what = "last met"
	case ksync.KindCard:
		what = "cards exchanged"
	case ksync.KindEvent:
		what = "last seen at an event"
	case ksync.KindCall:
		what = "last call"
	case ksync.KindMessage:
		what = "last message"
	case ksync.KindText:
		what = "last text"
	case ksync.KindMailSent:
		what = "last mail sent"
	case ksync.KindMailRecv:
		what = "last mail received"
	default:
		what = "last contact"
	}
	return what + " " + ago(days)
}

// firstPhrase says what the first interaction was and when: "first met 5 days ago".
func firstPhrase(kind string, days int) string {
	var what string
	switch kind {
	case ksync.KindCard:
		what = "cards exchanged"
	case ksync.KindEvent:
		what = "first seen at an event"
	case ksync.KindCall:
		what = "first call"
	default:
		what = "first met"
	}
	return what + " " + ago(days)
}

// ago says how long ago, in days up to two years and in years beyond.
func ago(days int) string {
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "yesterday"
	case days < 730:
		return fmt.Sprintf("%d days ago", days)
	default:
		return fmt.Sprintf("about %d years ago", int(math.Round(float64(days)/365.25)))
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Via says what a contact's last interaction was, when, and which source
// gave it: "mail, 3 days ago (work)", "call, yesterday (phone)",
// "meeting, 75 days ago (note)".
func Via(in ksync.Interaction, days int) string {
	var what string
	switch in.Kind {
	case ksync.KindMailSent, ksync.KindMailRecv:
		what = "mail"
	case ksync.KindEvent:
		what = "calendar event"
	case ksync.KindCard:
		what = "cards exchanged"
	case "":
		what = "contact"
	default:
		what = in.Kind // meeting, call, text, message
	}
	s := what + ", " + ago(days)
	if in.Source != "" {
		s += " (" + in.Source + ")"
	}
	return s
}
