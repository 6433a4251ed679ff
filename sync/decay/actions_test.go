package decay

import (
	"fmt"
	"slices"
	"testing"
)

func names(acts []Action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Name)
	}
	return out
}

func TestActions(t *testing.T) {
	p := DefaultParams()
	as := func(name, circle string, state State, overdue, bond float64, daysSince int) Assessment {
		return Assessment{UID: "uid-" + name, Name: name, Circle: circle, State: state, Overdue: overdue, Bond: bond, DaysSince: daysSince, Reason: "because"}
	}
	tests := []struct {
		name string
		all  []Assessment
		max  int
		want []string
	}{
		{
			name: "follow-ups first, closing window first",
			all: []Assessment{
				as("Fading Inner", CircleInner, StateFading, 2, 0.9, 14),
				as("New Early", CircleActive, StateFollowUp, 0.01, 0.4, 4),
				as("New Late", CircleActive, StateFollowUp, 0.07, 0.3, 25),
			},
			max:  7,
			want: []string{"New Late", "New Early", "Fading Inner"},
		},
		{
			name: "never dormant, healthy or unknown",
			all: []Assessment{
				as("Dormant", CircleActive, StateDormant, 5, 0.1, 2000),
				as("Healthy", CircleInner, StateHealthy, 0.5, 0.9, 3),
				as("None", "", StateNone, 0, 0, -1),
				as("Cold", CircleFriends, StateCold, 4, 0.6, 400),
			},
			max:  7,
			want: []string{"Cold"},
		},
		{
			name: "inner circle before outer at equal overdueness",
			all: []Assessment{
				as("Active", CircleActive, StateFading, 2, 0.5, 800),
				as("Friends", CircleFriends, StateFading, 2, 0.5, 200),
				as("Inner", CircleInner, StateFading, 2, 0.5, 20),
				as("Close", CircleClose, StateFading, 2, 0.5, 60),
			},
			max:  7,
			want: []string{"Inner", "Close", "Friends", "Active"},
		},
		{
			name: "more overdue first within a circle, capped",
			all: []Assessment{
				as("Due", CircleClose, StateDue, 1.2, 0.5, 36),
				as("Very Cold", CircleClose, StateCold, 40, 0.5, 1200),
				as("Cold", CircleClose, StateCold, 5, 0.5, 150),
				as("Fading", CircleClose, StateFading, 2.5, 0.5, 75),
			},
			max:  7,
			want: []string{"Cold", "Very Cold", "Fading", "Due"},
		},
		{
			name: "shared history breaks ties",
			all: []Assessment{
				as("Little", CircleFriends, StateFading, 2, 0.1, 180),
				as("Much", CircleFriends, StateFading, 2, 0.8, 180),
			},
			max:  7,
			want: []string{"Much", "Little"},
		},
		{
			name: "at most max",
			all:  manyFading(20),
			max:  7,
			want: []string{"C00", "C01", "C02", "C03", "C04", "C05", "C06"},
		},
		{
			name: "zero max",
			all:  manyFading(3),
			max:  0,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(Actions(tt.all, p, tt.max))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Actions = %v, want %v", got, tt.want)
			}
		})
	}
}

func manyFading(n int) []Assessment {
	var out []Assessment
	for i := range n {
		out = append(out, Assessment{UID: fmt.Sprint(i), Name: fmt.Sprintf("C%02d", i), Circle: CircleClose, State: StateFading, Overdue: 2, Bond: 0.5})
	}
	return out
}

// TestActionsCircleSizeCap checks that an over-full circle ranks its
// members with least shared history one circle out.
func TestActionsCircleSizeCap(t *testing.T) {
	p := DefaultParams()
	p.Inner.Size = 1
	all := []Assessment{
		{UID: "1", Name: "Inner Weak", Circle: CircleInner, State: StateFading, Overdue: 2, Bond: 0.2},
		{UID: "2", Name: "Inner Strong", Circle: CircleInner, State: StateHealthy, Overdue: 0.5, Bond: 0.9},
		{UID: "3", Name: "Close", Circle: CircleClose, State: StateFading, Overdue: 2, Bond: 0.3},
	}
	got := names(Actions(all, p, 7))
	if want := []string{"Close", "Inner Weak"}; !slices.Equal(got, want) {
		t.Errorf("Actions = %v, want %v: the weak inner contact is beyond the inner circle's size", got, want)
	}
	// The assignment itself is untouched.
	if all[0].Circle != CircleInner {
		t.Errorf("circle changed to %s", all[0].Circle)
	}
}

func BenchmarkAssess(b *testing.B) {
	in := Input{Interactions: every(3, 1, 3000), Categories: []string{"kith-close", "family"}}
	p := DefaultParams()
	for b.Loop() {
		Assess(in, now, p)
	}
}

// FuzzAssess checks the model's promises on arbitrary histories: no panic,
// scores in range, a known state, a one-line reason, and at most max
// actions of which none is for a dormant or healthy contact.
func FuzzAssess(f *testing.F) {
	f.Add([]byte{1, 0, 30, 0, 200, 3}, "kith-close", uint8(10))
	f.Add([]byte{5, 1}, "family", uint8(0))
	f.Add([]byte{}, "", uint8(7))
	kinds := []string{"meeting", "card", "event", "call", "message", "mail-sent", "mail-received", "other"}
	f.Fuzz(func(t *testing.T, data []byte, category string, maxActs uint8) {
		p := DefaultParams()
		var in Input
		in.Categories = []string{category}
		for i := 0; i+1 < len(data); i += 2 {
			ago := int(data[i]) * 13 // up to about 9 years
			ix := at(ago, kinds[int(data[i+1])%len(kinds)])
			ix.People = int(data[i+1]) / 16
			in.Interactions = append(in.Interactions, ix)
		}
		a := Assess(in, now, p)
		if a.Strength < 0 || a.Strength >= 1 || a.Bond < 0 || a.Bond >= 1 {
			t.Errorf("scores out of range: %+v", a)
		}
		if !slices.Contains(States(), a.State) || a.Reason == "" {
			t.Errorf("state %q, reason %q", a.State, a.Reason)
		}
		acts := Actions([]Assessment{a, a}, p, int(maxActs))
		if len(acts) > int(maxActs) {
			t.Errorf("%d actions, max %d", len(acts), maxActs)
		}
		for _, act := range acts {
			if act.State == StateDormant || act.State == StateHealthy || act.State == StateNone {
				t.Errorf("action for a %s contact", act.State)
			}
		}
	})
}
