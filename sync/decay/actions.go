package decay

import (
	"cmp"
	"math"
	"slices"
)

// Action is one thing worth doing this week: follow up with someone new, or
// get back in touch with someone overdue.
type Action struct {
	UID  string
	Name string
	// State is StateFollowUp for a follow-up, else the state that makes the
	// contact overdue (due, fading or cold).
	State  State
	Circle string
	// Reason is the assessment's reason.
	Reason string
}

// maxOverdue caps the overdue ratio in ranking, so that someone gone for
// years does not outrank an inner-circle friend who is fading.
const maxOverdue = 4

// Actions picks at most max actions from all. Follow-ups come first, the one
// whose window closes soonest first. Then due, fading and cold contacts, by
// a score that multiplies the circle's weight (inner 8, close 4, friends 2,
// active 1), the overdue ratio (capped at 4) and 0.5 plus the bond. Circle
// sizes are capped here: the members of a circle beyond its Size, by bond,
// rank with the next circle's weight. Dormant contacts, healthy ones and
// those with nothing to judge are never picked. Ties go by name, then UID.
func Actions(all []Assessment, p Params, max int) []Action {
	weight := circleWeights(all, p)
	type cand struct {
		a     *Assessment
		score float64
	}
	var follow, other []cand
	for i := range all {
		a := &all[i]
		switch a.State {
		case StateFollowUp:
			follow = append(follow, cand{a: a})
		case StateDue, StateFading, StateCold:
			r := math.Min(a.Overdue, maxOverdue)
			other = append(other, cand{a: a, score: weight[i] * r * (0.5 + a.Bond)})
		}
	}
	byName := func(x, y cand) int {
		return cmp.Or(cmp.Compare(x.a.Name, y.a.Name), cmp.Compare(x.a.UID, y.a.UID))
	}
	slices.SortFunc(follow, func(x, y cand) int {
		return cmp.Or(cmp.Compare(y.a.DaysSince, x.a.DaysSince), byName(x, y))
	})
	slices.SortFunc(other, func(x, y cand) int {
		return cmp.Or(cmp.Compare(y.score, x.score), byName(x, y))
	})
	var out []Action
	for _, c := range append(follow, other...) {
		if len(out) >= max {
			break
		}
		out = append(out, Action{UID: c.a.UID, Name: c.a.Name, State: c.a.State, Circle: c.a.Circle, Reason: c.a.Reason})
	}
	return out
}

// circleWeights returns each assessment's circle weight for ranking, with
// the members of each circle beyond its size (fewest shared history first)
// moved one circle out.
func circleWeights(all []Assessment, p Params) []float64 {
	out := make([]float64, len(all))
	circles := p.circles()
	for r, circ := range circles {
		var members []int
		for i := range all {
			if all[i].Circle == circ.name {
				members = append(members, i)
			}
		}
		slices.SortFunc(members, func(x, y int) int {
			a, b := &all[x], &all[y]
			return cmp.Or(cmp.Compare(b.Bond, a.Bond), cmp.Compare(b.Strength, a.Strength),
				cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
		})
		for n, i := range members {
			eff := r
			if n >= circ.c.Size {
				eff++
			}
			out[i] = math.Exp2(float64(len(circles) - 1 - eff))
		}
	}
	return out
}
