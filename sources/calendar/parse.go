package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-ical"

	"kith/sync/card"
)

// Limits bound one calendar (an .ics file or a CalDAV answer), so that a
// hostile one costs bounded memory and time; a zero field means no limit.
type Limits struct {
	// Size is the largest calendar, in bytes.
	Size int64
	// Depth is how deeply components may nest (VCALENDAR > VEVENT >
	// VALARM is 3).
	Depth int
}

// decodeAll decodes every VCALENDAR in data (some exports concatenate
// several), within lim.
//
// It replaces go-ical's decoder, which recurses once per nested BEGIN (a
// file of a million nested components overflows the stack, which no
// recover catches), panics on a line ending in "CN=", and builds quoted
// parameter values a byte at a time. This one works with an explicit stack,
// runs in time linear in the input, and gives the same components.
func decodeAll(data []byte, lim Limits) ([]*ical.Calendar, error) {
	if lim.Size > 0 && int64(len(data)) > lim.Size {
		return nil, &card.LimitError{Key: "calendar_size", What: "calendar", Got: int64(len(data)), Max: lim.Size}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := icsLines{text: string(data)}
	var cals []*ical.Calendar
	var stack []*ical.Component
	for {
		line, num, ok := r.next()
		if !ok {
			break
		}
		if line == "" {
			continue
		}
		p, err := parseContentLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		switch p.Name {
		case "BEGIN":
			if lim.Depth > 0 && len(stack) >= lim.Depth {
				return nil, fmt.Errorf("line %d: %w", num, &card.LimitError{Key: "calendar_depth", What: "calendar", Unit: "nested components", Max: int64(lim.Depth)})
			}
			c := &ical.Component{Name: strings.ToUpper(p.Value), Props: ical.Props{}}
			if len(stack) == 0 && c.Name != ical.CompCalendar {
				return nil, fmt.Errorf("line %d: %s at the top, not VCALENDAR", num, clip(c.Name))
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 {
				return nil, fmt.Errorf("line %d: END without BEGIN", num)
			}
			c := stack[len(stack)-1]
			if !strings.EqualFold(p.Value, c.Name) {
				return nil, fmt.Errorf("line %d: END:%s where END:%s was expected", num, clip(p.Value), clip(c.Name))
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				cals = append(cals, &ical.Calendar{Component: c})
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, c)
			}
		default:
			if len(stack) == 0 {
				return nil, fmt.Errorf("line %d: %s outside a calendar", num, clip(p.Name))
			}
			c := stack[len(stack)-1]
			c.Props[p.Name] = append(c.Props[p.Name], p)
		}
	}
	if len(cals) == 0 {
		if len(stack) > 0 {
			return nil, errors.New("VCALENDAR has no END")
		}
		return nil, errors.New("no VCALENDAR")
	}
	// A last calendar cut short is dropped; the whole ones before it count.
	return cals, nil
}

// icsLines splits text into content lines: CRLF or LF ends a line, and a
// line that begins with a space or tab continues the one before.
type icsLines struct {
	text string
	pos  int
	num  int
}

// next returns the next unfolded line and the number of its first
// physical line.
func (r *icsLines) next() (string, int, bool) {
	if r.pos >= len(r.text) {
		return "", r.num, false
	}
	line := r.physical()
	num := r.num
	var b *strings.Builder
	for r.pos < len(r.text) && (r.text[r.pos] == ' ' || r.text[r.pos] == '\t') {
		if b == nil {
			b = &strings.Builder{}
			b.WriteString(line)
		}
		b.WriteString(r.physical()[1:])
	}
	if b != nil {
		line = b.String()
	}
	return line, num, true
}

func (r *icsLines) physical() string {
	rest := r.text[r.pos:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		i = len(rest)
		r.pos = len(r.text)
	} else {
		r.pos += i + 1
	}
	r.num++
	return strings.TrimSuffix(rest[:i], "\r")
}

// parseContentLine splits `NAME;PARAM=a,"b";P2=c:value` the way go-ical
// does: names upper-cased, quoted parameter values taken as they stand.
func parseContentLine(s string) (ical.Prop, error) {
	i := strings.IndexAny(s, ";:")
	if i < 0 {
		return ical.Prop{}, errors.New("content line without a colon")
	}
	if i == 0 {
		return ical.Prop{}, errors.New("content line without a property name")
	}
	p := ical.Prop{Name: strings.ToUpper(s[:i]), Params: ical.Params{}}
	s = s[i:]
	for s[0] == ';' {
		s = s[1:]
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return ical.Prop{}, fmt.Errorf("%s: parameter without a name or an equals sign", clip(p.Name))
		}
		name := strings.ToUpper(s[:eq])
		s = s[eq+1:]
		for {
			var v string
			if strings.HasPrefix(s, `"`) {
				end := strings.IndexByte(s[1:], '"')
				if end < 0 {
					return ical.Prop{}, fmt.Errorf("%s: quoted parameter value without its closing quote", clip(p.Name))
				}
				v, s = s[1:1+end], s[2+end:]
			} else {
				end := strings.IndexAny(s, `";,:`)
				if end >= 0 && s[end] == '"' {
					return ical.Prop{}, fmt.Errorf("%s: quote inside a parameter value", clip(p.Name))
				}
				if end < 0 {
					end = len(s)
				}
				v, s = s[:end], s[end:]
			}
			p.Params[name] = append(p.Params[name], v)
			if s == "" {
				return ical.Prop{}, fmt.Errorf("%s: content line without a colon", clip(p.Name))
			}
			if s[0] != ',' {
				break
			}
			s = s[1:]
		}
		if s[0] != ';' && s[0] != ':' {
			return ical.Prop{}, fmt.Errorf("%s: unexpected character after a parameter value", clip(p.Name))
		}
	}
	p.Value = s[1:]
	return p, nil
}

// clip returns s for an error message when it is a standard iCalendar
// name, else a placeholder: a file that is no calendar (a secret linked
// into a folder) must not get quoted into logs, not even a word of it.
func clip(s string) string {
	switch strings.ToUpper(s) {
	case "VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VALARM", "STANDARD", "DAYLIGHT",
		"ATTENDEE", "ORGANIZER", "DTSTART", "DTEND", "DTSTAMP", "DURATION", "RRULE", "RDATE", "EXDATE",
		"RECURRENCE-ID", "UID", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "TZID", "TZOFFSETFROM",
		"TZOFFSETTO", "VERSION", "PRODID", "METHOD", "CATEGORIES", "SEQUENCE", "TRANSP", "CLASS":
		return s
	}
	return "a property"
}
