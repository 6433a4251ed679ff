package report

import (
	"math"
	"time"

	"kith/sync/decay"
)

// MaxActions is how many actions a week the report suggests: few, so that
// keeping in touch does not become another task list.
const MaxActions = 7

// Action is one thing worth doing this week.
type Action struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Circle string `json:"circle"`
	Reason string `json:"reason"`
}

// Duplicate is a pair of contacts that may be the same person.
type Duplicate struct {
	A Ref `json:"a"`
	B Ref `json:"b"`
	// Score is between 0 and 1: the higher, the likelier they are one
	// person (the matcher's; Reason gives its weights in bits).
	Score float64 `json:"score"`
	// Reason says why they look alike.
	Reason string `json:"reason"`
}

// Ref names a contact.
type Ref struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
}

// CircleSize is how many contacts a circle holds against the size such a
// circle typically has.
type CircleSize struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	Target int    `json:"target"`
}

// Week is the state counts of one past week.
type Week struct {
	// Start is the Monday the week starts on, as YYYY-MM-DD (see WeekOf).
	Start string `json:"start"`
	// Counts maps each state to its number of contacts.
	Counts map[string]int `json:"counts"`
}

// WeekOf returns the Monday of t's week (in t's location) as YYYY-MM-DD,
// the key of History entries.
func WeekOf(t time.Time) string {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7
	return day.AddDate(0, 0, -back).Format(time.DateOnly)
}

// Assess fills the contacts' decay fields from as (matched by UID), the
// circles' sizes and the week's actions. Contacts without an assessment
// are left as they are.
func (r *Report) Assess(as []decay.Assessment, p decay.Params) {
	byUID := make(map[string]*decay.Assessment, len(as))
	for i := range as {
		byUID[as[i].UID] = &as[i]
	}
	for i := range r.Contacts {
		if a, ok := byUID[r.Contacts[i].UID]; ok {
			r.Contacts[i].setAssessment(a)
		}
	}
	r.Actions = r.Actions[:0]
	for _, a := range decay.Actions(as, p, MaxActions) {
		r.Actions = append(r.Actions, Action{UID: a.UID, Name: a.Name, State: string(a.State), Circle: a.Circle, Reason: a.Reason})
	}
	sizes := map[string]int{}
	for _, a := range as {
		sizes[a.Circle]++
	}
	r.Circles = []CircleSize{
		{decay.CircleInner, sizes[decay.CircleInner], p.Inner.Size},
		{decay.CircleClose, sizes[decay.CircleClose], p.Close.Size},
		{decay.CircleFriends, sizes[decay.CircleFriends], p.Friends.Size},
		{decay.CircleActive, sizes[decay.CircleActive], p.Active.Size},
	}
}

func (c *Contact) setAssessment(a *decay.Assessment) {
	c.Circle, c.CircleSet = a.Circle, a.CircleSet
	c.State, c.Reason = string(a.State), a.Reason
	c.Strength, c.Bond = round2(a.Strength), round2(a.Bond)
	c.LastInteraction, c.DaysSince = nil, nil
	if a.Last != nil {
		c.LastInteraction = &Interaction{Date: a.Last.Date.Format(time.DateOnly), Kind: a.Last.Kind, Source: a.Last.Source,
			Via: decay.Via(*a.Last, a.DaysSince)}
		d := a.DaysSince
		c.DaysSince = &d
	}
}

// StateCounts returns how many contacts are in each state now: this week's
// History entry.
func (r *Report) StateCounts() map[string]int {
	out := map[string]int{}
	for _, c := range r.Contacts {
		if c.State != "" {
			out[c.State]++
		}
	}
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
