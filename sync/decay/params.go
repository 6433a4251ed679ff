package decay

import (
	"errors"
	"fmt"
	"strings"

	ksync "kith/sync"
)

// Circle names, innermost first.
const (
	CircleInner   = "inner"
	CircleClose   = "close"
	CircleFriends = "friends"
	CircleActive  = "active"
)

// CircleParams describes one circle of a personal network.
type CircleParams struct {
	// Category is the CATEGORIES value that puts a contact in this circle
	// (matched without regard to case).
	Category string `toml:"category"`
	// Days is the expected interval between interactions, C.
	Days int `toml:"days"`
	// Size is the number of people the circle typically holds. It caps the
	// circle in ranking actions, never in assignment.
	Size int `toml:"size"`
	// MinScore is the weighted days of contact in the past year a contact
	// needs to be inferred into this circle.
	MinScore float64 `toml:"min_score"`
}

// Weights are how much one day of each kind of interaction counts.
type Weights struct {
	Meeting float64 `toml:"meeting"`
	Card    float64 `toml:"card"`
	Event   float64 `toml:"event"`
	Call    float64 `toml:"call"`
	Message float64 `toml:"message"`
	// Text is a text message (SMS, MMS) from a phone log.
	Text         float64 `toml:"text"`
	MailSent     float64 `toml:"mail_sent"`
	MailReceived float64 `toml:"mail_received"`
	// SmallGroup multiplies the weight when 3 or 4 other people took part.
	SmallGroup float64 `toml:"small_group"`
	// LargeGroup multiplies the weight when 5 or more other people took part.
	LargeGroup float64 `toml:"large_group"`
}

// Params are the decay model's parameters, the [decay] table of kith's
// config. Start from DefaultParams and decode the user's values over it.
type Params struct {
	// Inner, Close, Friends and Active are the circles, innermost first.
	// Defaults: sizes 5/15/50/150 (Zhou, Sornette, Hill & Dunbar 2005) with
	// contact about weekly, monthly, quarterly and yearly (Hill & Dunbar 2003).
	Inner   CircleParams `toml:"inner"`
	Close   CircleParams `toml:"close"`
	Friends CircleParams `toml:"friends"`
	Active  CircleParams `toml:"active"`

	// FamilyCategories mark a contact as family (case-insensitive).
	FamilyCategories []string `toml:"family_categories"`
	// FamilyFactor multiplies C for family, whose closeness fades much more
	// slowly (Roberts & Dunbar 2011).
	FamilyFactor float64 `toml:"family_factor"`

	// Healthy, Due and Fading are the upper bounds of the overdue ratio r
	// (days since the last interaction / C) for those states; beyond Fading
	// a contact is cold.
	Healthy float64 `toml:"healthy"`
	Due     float64 `toml:"due"`
	Fading  float64 `toml:"fading"`

	// FollowUpDays is how long after a first meeting it still asks for a
	// follow-up; FollowUpFromDay is the day it starts asking.
	FollowUpDays    int `toml:"follow_up_days"`
	FollowUpFromDay int `toml:"follow_up_from_day"`
	// FollowUpKinds are the kinds of a first interaction that ask for a
	// follow-up (a mail out of the blue does not).
	FollowUpKinds []string `toml:"follow_up_kinds"`

	// DormantMaxDays: a cold contact whose circle the user did not set and
	// who had at most this many days of contact ever is dormant, not nagged.
	DormantMaxDays int `toml:"dormant_max_days"`

	// Weights of interactions by kind and group size.
	Weights Weights `toml:"weights"`

	// BondHalfLifeDays is the half-life of shared history: about 15% a year
	// without contact (Dunbar 2010), 4.3 years.
	BondHalfLifeDays float64 `toml:"bond_half_life_days"`
	// NewTieHalfLifeDays replaces it while there is only one day of contact:
	// 9 in 10 weak ties are gone within a year (Burt 2002).
	NewTieHalfLifeDays float64 `toml:"new_tie_half_life_days"`
}

// DefaultParams returns the defaults of kith's research notes.
func DefaultParams() Params {
	return Params{
		Inner:            CircleParams{Category: "kith-inner", Days: 7, Size: 5, MinScore: 26},
		Close:            CircleParams{Category: "kith-close", Days: 30, Size: 15, MinScore: 6},
		Friends:          CircleParams{Category: "kith-friends", Days: 90, Size: 50, MinScore: 2},
		Active:           CircleParams{Category: "kith-active", Days: 365, Size: 150, MinScore: 0},
		FamilyCategories: []string{"kith-family", "family"},
		FamilyFactor:     2,
		Healthy:          1,
		Due:              1.5,
		Fading:           3,
		FollowUpDays:     30,
		FollowUpFromDay:  3,
		FollowUpKinds:    []string{ksync.KindMeeting, ksync.KindCard, ksync.KindEvent, ksync.KindCall},
		DormantMaxDays:   2,
		Weights: Weights{
			Meeting: 1, Card: 1, Event: 0.8, Call: 0.7, Message: 0.3, Text: 0.3, MailSent: 0.3, MailReceived: 0.15,
			SmallGroup: 0.5, LargeGroup: 0.25,
		},
		BondHalfLifeDays:   4.3 * 365.25,
		NewTieHalfLifeDays: 110,
	}
}

// circles returns the circles innermost first with their names.
func (p *Params) circles() [4]struct {
	name string
	c    CircleParams
} {
	return [4]struct {
		name string
		c    CircleParams
	}{{CircleInner, p.Inner}, {CircleClose, p.Close}, {CircleFriends, p.Friends}, {CircleActive, p.Active}}
}

// circle returns the parameters of the named circle.
func (p *Params) circle(name string) (CircleParams, bool) {
	for _, c := range p.circles() {
		if c.name == name {
			return c.c, true
		}
	}
	return CircleParams{}, false
}

// Validate reports every parameter that makes no sense, each named by its
// config key (decay.close.days: …).
func (p *Params) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("decay.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	prev := CircleParams{}
	prevName := ""
	cats := map[string]string{}
	for _, c := range p.circles() {
		switch {
		case c.c.Days <= 0:
			bad(c.name+".days", "must be positive")
		case prevName != "" && c.c.Days <= prev.Days:
			bad(c.name+".days", "must be more than %s.days (%d)", prevName, prev.Days)
		}
		if c.c.Size < 0 {
			bad(c.name+".size", "must not be negative")
		}
		if c.c.MinScore < 0 {
			bad(c.name+".min_score", "must not be negative")
		} else if prevName != "" && c.c.MinScore > prev.MinScore {
			bad(c.name+".min_score", "must not be more than %s.min_score (%g)", prevName, prev.MinScore)
		}
		if strings.TrimSpace(c.c.Category) == "" {
			bad(c.name+".category", "must not be empty")
		} else if other, ok := cats[strings.ToLower(c.c.Category)]; ok {
			bad(c.name+".category", "%q is also %s's category", c.c.Category, other)
		} else {
			cats[strings.ToLower(c.c.Category)] = c.name
		}
		prev, prevName = c.c, c.name
	}
	for _, f := range p.FamilyCategories {
		if other, ok := cats[strings.ToLower(f)]; ok {
			bad("family_categories", "%q is also %s's category", f, other)
		}
	}
	if p.FamilyFactor < 1 {
		bad("family_factor", "must be at least 1")
	}
	if p.Healthy <= 0 {
		bad("healthy", "must be positive")
	}
	if p.Due < p.Healthy {
		bad("due", "must be at least healthy (%g)", p.Healthy)
	}
	if p.Fading < p.Due {
		bad("fading", "must be at least due (%g)", p.Due)
	}
	if p.FollowUpDays < 0 {
		bad("follow_up_days", "must not be negative")
	}
	if p.FollowUpFromDay < 0 || p.FollowUpFromDay > p.FollowUpDays {
		bad("follow_up_from_day", "must be between 0 and follow_up_days (%d)", p.FollowUpDays)
	}
	known := []string{ksync.KindMeeting, ksync.KindCard, ksync.KindEvent, ksync.KindCall, ksync.KindMessage, ksync.KindText, ksync.KindMailSent, ksync.KindMailRecv}
	for _, k := range p.FollowUpKinds {
		if !contains(known, k) {
			bad("follow_up_kinds", "unknown kind %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	if p.DormantMaxDays < 0 {
		bad("dormant_max_days", "must not be negative")
	}
	w := p.Weights
	for _, kw := range []struct {
		key string
		v   float64
	}{
		{"meeting", w.Meeting}, {"card", w.Card}, {"event", w.Event}, {"call", w.Call},
		{"message", w.Message}, {"text", w.Text}, {"mail_sent", w.MailSent}, {"mail_received", w.MailReceived},
		{"small_group", w.SmallGroup}, {"large_group", w.LargeGroup},
	} {
		if kw.v < 0 || kw.v > 1 {
			bad("weights."+kw.key, "must be between 0 and 1")
		}
	}
	if p.BondHalfLifeDays <= 0 {
		bad("bond_half_life_days", "must be positive")
	}
	if p.NewTieHalfLifeDays <= 0 {
		bad("new_tie_half_life_days", "must be positive")
	}
	return errors.Join(errs...)
}

// weight returns what one interaction counts for; an unknown kind counts
// for recency but adds nothing to scores.
func (p *Params) weight(in ksync.Interaction) float64 {
	w := p.Weights
	var k float64
	switch in.Kind {
	case ksync.KindMeeting:
		k = w.Meeting
	case ksync.KindCard:
		k = w.Card
	case ksync.KindEvent:
		k = w.Event
	case ksync.KindCall:
		k = w.Call
	case ksync.KindMessage:
		k = w.Message
	case ksync.KindText:
		k = w.Text
	case ksync.KindMailSent:
		k = w.MailSent
	case ksync.KindMailRecv:
		k = w.MailReceived
	}
	switch {
	case in.People >= 5:
		k *= w.LargeGroup
	case in.People >= 3:
		k *= w.SmallGroup
	}
	return k
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
