package calendar

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// windowsZones maps the Windows zone names that Outlook and Exchange put in
// TZID to IANA zones (the common ones from CLDR's windowsZones.xml).
var windowsZones = map[string]string{
	"utc":                             "UTC",
	"gmt standard time":               "Europe/London",
	"greenwich standard time":         "Atlantic/Reykjavik",
	"w. europe standard time":         "Europe/Berlin",
	"central europe standard time":    "Europe/Budapest",
	"central european standard time":  "Europe/Warsaw",
	"romance standard time":           "Europe/Paris",
	"e. europe standard time":         "Europe/Chisinau",
	"fle standard time":               "Europe/Kiev",
	"gtb standard time":               "Europe/Bucharest",
	"russian standard time":           "Europe/Moscow",
	"turkey standard time":            "Europe/Istanbul",
	"israel standard time":            "Asia/Jerusalem",
	"south africa standard time":      "Africa/Johannesburg",
	"arabian standard time":           "Asia/Dubai",
	"india standard time":             "Asia/Kolkata",
	"china standard time":             "Asia/Shanghai",
	"singapore standard time":         "Asia/Singapore",
	"tokyo standard time":             "Asia/Tokyo",
	"korea standard time":             "Asia/Seoul",
	"aus eastern standard time":       "Australia/Sydney",
	"e. australia standard time":      "Australia/Brisbane",
	"w. australia standard time":      "Australia/Perth",
	"new zealand standard time":       "Pacific/Auckland",
	"eastern standard time":           "America/New_York",
	"central standard time":           "America/Chicago",
	"mountain standard time":          "America/Denver",
	"us mountain standard time":       "America/Phoenix",
	"pacific standard time":           "America/Los_Angeles",
	"alaskan standard time":           "America/Anchorage",
	"hawaiian standard time":          "Pacific/Honolulu",
	"atlantic standard time":          "America/Halifax",
	"canada central standard time":    "America/Regina",
	"e. south america standard time":  "America/Sao_Paulo",
	"argentina standard time":         "America/Buenos_Aires",
	"central standard time (mexico)":  "America/Mexico_City",
	"sa pacific standard time":        "America/Bogota",
	"pacific sa standard time":        "America/Santiago",
	"w. central africa standard time": "Africa/Lagos",
	"egypt standard time":             "Africa/Cairo",
}

// zones resolves the TZIDs of one calendar, caching what it found.
type zones struct {
	floating *time.Location
	vtz      map[string]*ical.Component // the calendar's VTIMEZONEs by TZID
	cache    map[string]*time.Location
}

func newZones(cal *ical.Component, floating *time.Location) *zones {
	z := &zones{floating: floating, vtz: map[string]*ical.Component{}, cache: map[string]*time.Location{}}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		if p := c.Props.Get(ical.PropTimezoneID); p != nil {
			z.vtz[p.Value] = c
		}
	}
	return z
}

// location returns the zone a TZID names: an IANA name, a Mozilla-style
// path ending in one, a Windows name, else the fixed standard offset of the
// calendar's VTIMEZONE, else the floating zone.
func (z *zones) location(tzid string) *time.Location {
	if loc, ok := z.cache[tzid]; ok {
		return loc
	}
	loc := z.resolve(tzid)
	z.cache[tzid] = loc
	return loc
}

func (z *zones) resolve(tzid string) *time.Location {
	name := strings.Trim(strings.TrimSpace(tzid), `"`)
	if name == "" {
		return z.floating
	}
	if loc, ok := loadIANA(name); ok {
		return loc
	}
	// "/mozilla.org/20050126_1/Europe/Berlin", "/citadel.org/…/Europe/Rome".
	for i := 0; i < len(name); i++ {
		if name[i] == '/' && strings.Contains(name[i+1:], "/") {
			if loc, ok := loadIANA(name[i+1:]); ok {
				return loc
			}
		}
	}
	if iana, ok := windowsZones[strings.ToLower(name)]; ok {
		if loc, ok := loadIANA(iana); ok {
			return loc
		}
	}
	if vtz := z.vtz[tzid]; vtz != nil {
		if loc, ok := fixedZone(tzid, vtz); ok {
			return loc
		}
	}
	return z.floating
}

// loadIANA loads a zone by IANA name. It refuses "Local" and names that
// are not zone names, which time.LoadLocation would otherwise take.
func loadIANA(name string) (*time.Location, bool) {
	if name == "Local" || len(name) > 64 || strings.ContainsAny(name, " \\:") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return loc, true
}

// fixedZone returns a fixed zone at the VTIMEZONE's STANDARD offset: off by
// an hour in summer, which moves the day of an event only near midnight.
func fixedZone(tzid string, vtz *ical.Component) (*time.Location, bool) {
	var fallback string
	for _, c := range vtz.Children {
		p := c.Props.Get(ical.PropTimezoneOffsetTo)
		if p == nil {
			continue
		}
		if c.Name == ical.CompTimezoneStandard {
			fallback = p.Value
			break
		}
		if fallback == "" {
			fallback = p.Value
		}
	}
	off, err := parseOffset(fallback)
	if err != nil {
		return nil, false
	}
	return time.FixedZone(tzid, off), true
}

// parseOffset reads a UTC offset such as "+0100", "-0530" or "+013000".
func parseOffset(s string) (int, error) {
	if len(s) != 5 && len(s) != 7 || s[0] != '+' && s[0] != '-' {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	n := 0
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad UTC offset %q", s)
		}
	}
	h, m := atoi2(s[1:3]), atoi2(s[3:5])
	n = h*3600 + m*60
	if len(s) == 7 {
		n += atoi2(s[5:7])
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	if s[0] == '-' {
		n = -n
	}
	return n, nil
}

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// errNoValue is returned for a date property without a value.
var errNoValue = errors.New("no value")

// stamp is a point in time read from a DTSTART-like property.
type stamp struct {
	t      time.Time // the instant; for a date, midnight UTC of that date
	allDay bool      // a DATE, not a DATE-TIME
}

// parseStamp reads one value of a date or date-time property; params are
// the property's parameters (VALUE, TZID).
func (z *zones) parseStamp(value string, params ical.Params) (stamp, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return stamp{}, errNoValue
	}
	isDate := strings.EqualFold(params.Get(ical.ParamValue), string(ical.ValueDate)) || len(v) == 8
	if isDate {
		if len(v) > 8 { // VALUE=DATE with a time: keep the date
			v = v[:8]
		}
		t, err := time.ParseInLocation("20060102", v, time.UTC)
		if err != nil {
			return stamp{}, fmt.Errorf("bad date %q", value)
		}
		return stamp{t: t, allDay: true}, nil
	}
	if n := len(v); n == 16 && (v[15] == 'Z' || v[15] == 'z') {
		t, err := time.ParseInLocation("20060102T150405", v[:15], time.UTC)
		if err != nil {
			return stamp{}, fmt.Errorf("bad date-time %q", value)
		}
		return stamp{t: t}, nil
	}
	loc := z.floating
	if tzid := params.Get(ical.PropTimezoneID); tzid != "" {
		loc = z.location(tzid)
	}
	t, err := time.ParseInLocation("20060102T150405", v, loc)
	if err != nil {
		return stamp{}, fmt.Errorf("bad date-time %q", value)
	}
	return stamp{t: t}, nil
}

// prop reads a single-valued date or date-time property.
func (z *zones) prop(p *ical.Prop) (stamp, error) {
	if p == nil {
		return stamp{}, errNoValue
	}
	return z.parseStamp(p.Value, p.Params)
}

// list reads every value of a list-valued property (EXDATE, RDATE); a
// PERIOD value counts by its start.
func (z *zones) list(props []ical.Prop) ([]stamp, error) {
	var out []stamp
	for _, p := range props {
		for _, v := range strings.Split(p.Value, ",") {
			if i := strings.IndexByte(v, '/'); i >= 0 {
				v = v[:i]
			}
			s, err := z.parseStamp(v, p.Params)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Name, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}
