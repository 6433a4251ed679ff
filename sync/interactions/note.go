package interactions

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ksync "kith/sync"
)

// Source is the Interaction.Source of interactions found in a NOTE.
const Source = "note"

// Options change how notes are read.
type Options struct {
	// DayFirst reads a slashed date such as 03/04/2026 as day/month/year
	// (3 April); when false it is month/day/year (March 4). A slashed date
	// that is valid in only one order is read in that order. Dotted dates
	// (20.11.2026) are always day first.
	DayFirst bool
}

// Plan is a dated note line whose date is after today: something the user
// means to do, not an interaction.
type Plan struct {
	// Date is the planned day, UTC midnight.
	Date time.Time
	// Kind is the kind guessed from the line's words, as for an interaction.
	Kind string
	// Text is the line after its date.
	Text string
	// Ref identifies the line as an interaction's Ref does.
	Ref string
}

// ParseNote returns the interactions and plans written as dated lines in
// note, the unescaped text of a card's NOTE with lines separated by "\n".
// A line dated on or before now's calendar day (in now's location) is an
// interaction with Source "note" and People 1; a later one is a plan. Both
// come back in the order of the lines.
func ParseNote(note string, now time.Time, opts Options) (found []ksync.Interaction, plans []Plan) {
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	seen := map[time.Time]int{}
	for line := range strings.SplitSeq(note, "\n") {
		date, text, ok := parseLine(line, opts)
		if !ok {
			continue
		}
		seen[date]++
		ref := date.Format(time.DateOnly) + "#" + strconv.Itoa(seen[date])
		kind := KindOf(text)
		if date.After(today) {
			plans = append(plans, Plan{Date: date, Kind: kind, Text: text, Ref: ref})
			continue
		}
		found = append(found, ksync.Interaction{
			Date:   date,
			Kind:   kind,
			Source: Source,
			Ref:    ref,
			People: 1,
		})
	}
	return found, plans
}

// parseLine reads a log line: optional bullet, a date, then end of line or a
// character that is neither letter nor digit. It returns the date (UTC
// midnight) and the text after it.
func parseLine(line string, opts Options) (time.Time, string, bool) {
	s := strings.TrimLeft(strings.TrimRight(line, "\r"), " \t")
	for _, b := range []string{"-", "*", "•", "+"} {
		if rest, ok := strings.CutPrefix(s, b); ok {
			s = strings.TrimLeft(rest, " \t")
			break
		}
	}
	date, n, ok := parseDate(s, opts)
	if !ok {
		return time.Time{}, "", false
	}
	rest := s[n:]
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return time.Time{}, "", false
	}
	text := strings.TrimSpace(strings.TrimLeft(rest, " \t:,;-–—|"))
	return date, text, true
}

// scanner reads a date from the start of a string.
type scanner struct {
	s string
	i int
}

func (c *scanner) peek() byte {
	if c.i < len(c.s) {
		return c.s[c.i]
	}
	return 0
}

// accept consumes b if it is next.
func (c *scanner) accept(b byte) bool {
	if c.peek() == b {
		c.i++
		return true
	}
	return false
}

// spaces consumes blanks and reports how many.
func (c *scanner) spaces() int {
	n := 0
	for c.peek() == ' ' || c.peek() == '\t' {
		c.i++
		n++
	}
	return n
}

// number consumes a run of ASCII digits of length min..max; a longer run is
// no match.
func (c *scanner) number(min, max int) (int, bool) {
	j := c.i
	for j < len(c.s) && c.s[j] >= '0' && c.s[j] <= '9' {
		j++
	}
	if j-c.i < min || j-c.i > max {
		return 0, false
	}
	v, _ := strconv.Atoi(c.s[c.i:j])
	c.i = j
	return v, true
}

// word consumes a run of letters and returns it lower-cased.
func (c *scanner) word() string {
	j := c.i
	for j < len(c.s) {
		r, size := utf8.DecodeRuneInString(c.s[j:])
		if !unicode.IsLetter(r) {
			break
		}
		j += size
	}
	w := strings.ToLower(c.s[c.i:j])
	c.i = j
	return w
}

// month consumes a month name or abbreviation, with an optional trailing dot.
func (c *scanner) month() (time.Month, bool) {
	m, ok := months[c.word()]
	if !ok {
		return 0, false
	}
	c.accept('.')
	return m, true
}

// year consumes a four-digit year; two-digit years are rejected because
// their century is a guess.
func (c *scanner) year() (int, bool) {
	y, ok := c.number(4, 4)
	return y, ok && y >= 1900
}

// parseDate reads a date at the start of s and returns it with the number of
// bytes it took.
func parseDate(s string, opts Options) (time.Time, int, bool) {
	c := &scanner{s: s}
	var y, d int
	var m time.Month
	switch r, _ := utf8.DecodeRuneInString(s); {
	case r >= '0' && r <= '9':
		a, ok := c.number(1, 4)
		if !ok {
			return time.Time{}, 0, false
		}
		if c.i == 4 { // 2026-11-20 or 2026/11/20
			sep := c.peek()
			if sep != '-' && sep != '/' {
				return time.Time{}, 0, false
			}
			c.i++
			mm, ok1 := c.number(1, 2)
			ok2 := c.accept(sep)
			dd, ok3 := c.number(1, 2)
			if !ok1 || !ok2 || !ok3 || a < 1900 {
				return time.Time{}, 0, false
			}
			y, m, d = a, time.Month(mm), dd
			break
		}
		if c.i > 2 {
			return time.Time{}, 0, false
		}
		d = a
		switch {
		case c.accept('.'): // 20.11.2026, 20. November 2026, 20.Nov.2026
			c.spaces()
			if mm, ok := c.number(1, 2); ok {
				m = time.Month(mm)
				if !c.accept('.') {
					return time.Time{}, 0, false
				}
			} else if m, ok = c.month(); !ok {
				return time.Time{}, 0, false
			}
			c.spaces()
		case c.accept('/'): // 20/11/2026 or 11/20/2026
			b, ok := c.number(1, 2)
			if !ok || !c.accept('/') {
				return time.Time{}, 0, false
			}
			first, second := a, b // day, month when DayFirst
			if !opts.DayFirst {
				first, second = b, a
			}
			if second > 12 && first <= 12 { // only the other order exists
				first, second = second, first
			}
			d, m = first, time.Month(second)
		case c.spaces() > 0: // 20 Nov 2026, 20 November, 2026
			var ok bool
			if m, ok = c.month(); !ok {
				return time.Time{}, 0, false
			}
			c.accept(',')
			c.spaces()
		default:
			return time.Time{}, 0, false
		}
		if y, ok = c.year(); !ok {
			return time.Time{}, 0, false
		}
	case unicode.IsLetter(r): // Nov 20, 2026; November 20th 2026
		var ok bool
		if m, ok = c.month(); !ok || c.spaces() == 0 {
			return time.Time{}, 0, false
		}
		if d, ok = c.number(1, 2); !ok {
			return time.Time{}, 0, false
		}
		save := c.i
		if suf := c.word(); suf != "st" && suf != "nd" && suf != "rd" && suf != "th" {
			c.i = save
		}
		c.accept(',')
		if c.spaces() == 0 {
			return time.Time{}, 0, false
		}
		if y, ok = c.year(); !ok {
			return time.Time{}, 0, false
		}
	default:
		return time.Time{}, 0, false
	}
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || t.Month() != m || t.Day() != d {
		return time.Time{}, 0, false // 31.02.2026, month 13
	}
	return t, c.i, true
}

// months maps English and German month names and abbreviations, lower case.
var months = func() map[string]time.Month {
	names := [][]string{
		{"january", "jan", "januar", "jänner", "jän"},
		{"february", "feb", "februar", "feber"},
		{"march", "mar", "märz", "maerz", "marz", "mrz", "mär"},
		{"april", "apr"},
		{"may", "mai"},
		{"june", "jun", "juni"},
		{"july", "jul", "juli"},
		{"august", "aug"},
		{"september", "sep", "sept"},
		{"october", "oct", "oktober", "okt"},
		{"november", "nov"},
		{"december", "dec", "dezember", "dez"},
	}
	out := map[string]time.Month{}
	for i, ns := range names {
		for _, n := range ns {
			out[n] = time.Month(i + 1)
		}
	}
	return out
}()
