package calendar

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// maxOccurrences bounds the occurrences generated for one event, so that a
// rule such as FREQ=DAILY from 1970 costs at most this many steps.
const maxOccurrences = 50000

// expand returns the occurrences of ev, whose DTSTART is start, that lie in
// the extractor's window: DTSTART itself, the RRULE's and RDATE's
// occurrences, less EXDATEs. Rules more frequent than daily are not
// expanded (an hourly "event" is no meeting).
func (x *extractor) expand(ev *ical.Component, start stamp, z *zones, log *slog.Logger) ([]stamp, error) {
	occ := []stamp{start}
	rdates, err := z.list(ev.Props[ical.PropRecurrenceDates])
	if err != nil {
		return nil, err
	}
	occ = append(occ, rdates...)

	if p := ev.Props.Get(ical.PropRecurrenceRule); p != nil && x.instant(start).Before(x.now) {
		more, err := x.rrule(p.Value, start)
		if err != nil {
			return nil, fmt.Errorf("RRULE %q: %w", p.Value, err)
		}
		if more == nil {
			log.Debug("event recurrence not expanded", "reason", "more often than daily", "rrule", p.Value)
		}
		occ = append(occ, more...)
	}

	exdates, err := z.list(ev.Props[ical.PropExceptionDates])
	if err != nil {
		return nil, err
	}
	// Sets, not lists: an event with 100k RDATEs must not cost 10^10 steps.
	ex, seen := newStampSet(exdates), newStampSet(nil)
	var out []stamp
	for _, s := range occ {
		if !x.inWindow(s) || ex.has(s) || seen.has(s) {
			continue
		}
		seen.add(s)
		out = append(out, s)
	}
	return out, nil
}

// stampSet tells in constant time whether a stamp is the same as one of
// its members, the way sameStamp compares them: by date when either is
// all-day, else by instant.
type stampSet struct {
	dates   map[date]bool    // every member's date
	allDay  map[date]bool    // the dates of all-day members
	instant map[instant]bool // the instants of the other members
}

type date struct {
	y int
	m time.Month
	d int
}

type instant struct{ sec, nsec int64 }

func newStampSet(members []stamp) *stampSet {
	s := &stampSet{dates: map[date]bool{}, allDay: map[date]bool{}, instant: map[instant]bool{}}
	for _, m := range members {
		s.add(m)
	}
	return s
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (s *stampSet) add(m stamp) {
	d := dateOf(m.t)
	s.dates[d] = true
	if m.allDay {
		s.allDay[d] = true
	} else {
		s.instant[instant{m.t.Unix(), int64(m.t.Nanosecond())}] = true
	}
}

func (s *stampSet) has(x stamp) bool {
	d := dateOf(x.t)
	if x.allDay {
		return s.dates[d]
	}
	return s.allDay[d] || s.instant[instant{x.t.Unix(), int64(x.t.Nanosecond())}]
}

// rrule expands one RRULE value from start up to now; nil for rules more
// often than daily.
func (x *extractor) rrule(value string, start stamp) ([]stamp, error) {
	if strings.ContainsAny(value, "\r\n") {
		return nil, fmt.Errorf("line break in rule")
	}
	opt, err := rrule.StrToROptionInLocation(value, start.t.Location())
	if err != nil {
		return nil, err
	}
	if opt.Freq > rrule.DAILY {
		return nil, nil
	}
	if impossible(opt) {
		return nil, fmt.Errorf("no such day (BYMONTH with BYMONTHDAY)")
	}
	opt.Dtstart = start.t
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	next := r.Iterator()
	var out []stamp
	for range maxOccurrences {
		t, ok := next()
		if !ok {
			break
		}
		s := stamp{t: t, allDay: start.allDay}
		if !x.instant(s).Before(x.now) {
			break
		}
		if !x.dayOf(s).Before(x.since) {
			out = append(out, s)
		}
	}
	if out == nil {
		out = []stamp{}
	}
	return out, nil
}

// impossible tells whether a rule names only days that no month has (30
// February): rrule-go would search up to the year 9999 for one.
func impossible(opt *rrule.ROption) bool {
	if len(opt.Bymonth) == 0 || len(opt.Bymonthday) == 0 {
		return false
	}
	for _, m := range opt.Bymonth {
		days := time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() // 2024: a leap year
		for _, d := range opt.Bymonthday {
			if d <= days && d >= -days {
				return false
			}
		}
	}
	return true
}
