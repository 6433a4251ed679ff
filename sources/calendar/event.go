package calendar

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	ksync "kith/sync"
	"kith/sync/normalize"
)

// extractor turns calendars into interactions for one Interactions call.
type extractor struct {
	source       string
	user         map[string]bool // the user's normalised emails
	maxAttendees int
	loc          *time.Location // floating times and interaction days
	since        time.Time      // first day that counts, UTC midnight
	now          time.Time
	norm         *normalize.Normalizer
	log          *slog.Logger

	seen map[string]bool // Refs already produced
	out  []ksync.Interaction
	at   []time.Time // when each of out began
}

// day returns the UTC midnight of the day t falls on in loc.
func day(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// calendar adds the interactions of one calendar object; where names it in
// logs (a file path or an href).
func (x *extractor) calendar(cal *ical.Calendar, where string) {
	if strings.EqualFold(propValue(cal.Props.Get(ical.PropMethod)), "CANCEL") {
		x.log.Debug("calendar skipped", "where", where, "reason", "METHOD:CANCEL")
		return
	}
	z := newZones(cal.Component, x.loc)
	// Group events by UID: a recurring event is a master plus overrides.
	type group struct {
		master    *ical.Component
		overrides []*ical.Component
	}
	var order []string
	groups := map[string]*group{}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid := strings.TrimSpace(propValue(c.Props.Get(ical.PropUID)))
		if uid == "" {
			uid = "sha256:" + contentHash(c)
		}
		g := groups[uid]
		if g == nil {
			g = &group{}
			groups[uid] = g
			order = append(order, uid)
		}
		if c.Props.Get(ical.PropRecurrenceID) != nil {
			g.overrides = append(g.overrides, c)
		} else if g.master == nil {
			g.master = c
		}
	}
	for _, uid := range order {
		g := groups[uid]
		log := x.log.With("where", where, "uid", uid)
		moved := newStampSet(nil) // RECURRENCE-IDs of the overrides
		for _, o := range g.overrides {
			rid, err := z.prop(o.Props.Get(ical.PropRecurrenceID))
			if err != nil {
				log.Warn("event override skipped", "reason", "RECURRENCE-ID: "+err.Error())
				continue
			}
			moved.add(rid)
			start, err := z.prop(o.Props.Get(ical.PropDateTimeStart))
			if err != nil {
				start = rid // an override may leave DTSTART unchanged
			}
			x.occurrence(o, uid, rid, start, log)
		}
		if g.master == nil {
			continue
		}
		start, err := z.prop(g.master.Props.Get(ical.PropDateTimeStart))
		if err != nil {
			log.Warn("event skipped", "reason", "DTSTART: "+err.Error())
			continue
		}
		occ, err := x.expand(g.master, start, z, log)
		if err != nil {
			log.Warn("event recurrence ignored", "reason", err.Error())
			occ = []stamp{start}
		}
		for _, s := range occ {
			if moved.has(s) {
				continue
			}
			x.occurrence(g.master, uid, s, s, log)
		}
	}
}

// sameStamp tells whether a RECURRENCE-ID or EXDATE m names occurrence s.
func sameStamp(m, s stamp) bool {
	if m.allDay || s.allDay {
		return m.t.Format(time.DateOnly) == s.t.Format(time.DateOnly)
	}
	return m.t.Equal(s.t)
}

// dayOf returns the interaction day of a stamp.
func (x *extractor) dayOf(s stamp) time.Time {
	if s.allDay {
		return s.t
	}
	return day(s.t, x.loc)
}

// instant returns when a stamp begins: an all-day event at local midnight.
func (x *extractor) instant(s stamp) time.Time {
	if s.allDay {
		y, m, d := s.t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, x.loc)
	}
	return s.t
}

// inWindow tells whether an occurrence starting at s counts: it began
// before now, on or after the first day asked for.
func (x *extractor) inWindow(s stamp) bool {
	return x.instant(s).Before(x.now) && !x.dayOf(s).Before(x.since)
}

// occurrence adds one occurrence of ev; id is the occurrence's original
// start (its identity), start when it actually began.
func (x *extractor) occurrence(ev *ical.Component, uid string, id, start stamp, log *slog.Logger) {
	if !x.inWindow(start) {
		return
	}
	date := x.dayOf(start)
	ref := uid + "/" + x.dayOf(id).Format(time.DateOnly)
	log = log.With("date", date.Format(time.DateOnly))
	if strings.EqualFold(strings.TrimSpace(propValue(ev.Props.Get(ical.PropStatus))), "CANCELLED") {
		log.Debug("event skipped", "reason", "cancelled")
		return
	}
	who, people, reason := x.attendees(ev)
	if reason != "" {
		log.Debug("event skipped", "reason", reason)
		return
	}
	if x.seen[ref] {
		return
	}
	x.seen[ref] = true
	x.at = append(x.at, x.instant(start))
	x.out = append(x.out, ksync.Interaction{
		Date:   date,
		Kind:   ksync.KindEvent,
		Source: x.source,
		Ref:    ref,
		People: people,
		Who:    who,
	})
}

// participant is an organizer or attendee.
type participant struct {
	id       string // email, else the lower-cased address or name
	email    string // normalised, "" when none
	partstat string
	cutype   string
	role     string
}

func (x *extractor) participant(p *ical.Prop) participant {
	v := strings.TrimSpace(p.Value)
	var email string
	if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
		email = x.norm.Email(v)
	}
	if email == "" {
		email = x.norm.Email(p.Params.Get("EMAIL"))
	}
	id := email
	if id == "" {
		id = strings.ToLower(v)
	}
	if id == "" {
		id = strings.ToLower(strings.TrimSpace(p.Params.Get(ical.ParamCommonName)))
	}
	return participant{
		id:       id,
		email:    email,
		partstat: strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamParticipationStatus))),
		cutype:   strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamCalendarUserType))),
		role:     strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamRole))),
	}
}

// attendees decides whether the user attended ev and with whom: the other
// attendees' emails (sorted), how many others took part, or why the event
// does not count.
func (x *extractor) attendees(ev *ical.Component) (who []string, people int, reason string) {
	var org *participant
	if p := ev.Props.Get(ical.PropOrganizer); p != nil {
		o := x.participant(p)
		org = &o
	}
	var atts []participant
	for i := range ev.Props[ical.PropAttendee] {
		atts = append(atts, x.participant(&ev.Props[ical.PropAttendee][i]))
	}

	// The user's own answer, from their ATTENDEE lines.
	userListed, userAccepted, userDeclined := false, false, false
	for _, a := range atts {
		if !x.user[a.email] {
			continue
		}
		userListed = true
		if a.partstat == "DECLINED" {
			userDeclined = true
		} else {
			userAccepted = true
		}
	}
	userOrg := org != nil && x.user[org.email]
	switch {
	case userAccepted:
	case userDeclined:
		return nil, 0, "declined"
	case userOrg:
	case org == nil && !userListed:
		// An event in the user's own calendar that nobody sent: theirs.
	default:
		return nil, 0, "user not among attendees"
	}

	// Everyone invited, by id; the organizer's own ATTENDEE line, if any,
	// carries their answer.
	invited := map[string]participant{}
	var ids []string
	add := func(p participant) {
		if p.id == "" || x.user[p.email] {
			return
		}
		if _, ok := invited[p.id]; !ok {
			ids = append(ids, p.id)
		}
		invited[p.id] = p
	}
	if org != nil {
		add(*org)
	}
	for _, a := range atts {
		if a.cutype == "GROUP" {
			return nil, 0, "a group is invited"
		}
		if a.cutype == "ROOM" || a.cutype == "RESOURCE" || a.role == "NON-PARTICIPANT" {
			continue
		}
		add(a)
	}
	if len(ids)+1 > x.maxAttendees {
		return nil, 0, fmt.Sprintf("%d people invited, more than %d", len(ids)+1, x.maxAttendees)
	}
	for _, id := range ids {
		p := invited[id]
		if p.partstat == "DECLINED" {
			continue
		}
		people++
		if p.email != "" && !slices.Contains(who, p.email) {
			who = append(who, p.email)
		}
	}
	if people == 0 {
		return nil, 0, "no other attendee"
	}
	if len(who) == 0 {
		return nil, 0, "no other attendee has an email address"
	}
	slices.Sort(who)
	return who, people, ""
}

func propValue(p *ical.Prop) string {
	if p == nil {
		return ""
	}
	return p.Value
}

// contentHash identifies an event without a UID by its start and summary.
func contentHash(c *ical.Component) string {
	h := sha256.New()
	for _, name := range []string{ical.PropDateTimeStart, ical.PropSummary, ical.PropOrganizer} {
		fmt.Fprintf(h, "%s:%s\n", name, propValue(c.Props.Get(name)))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
