package card

import (
	"strings"
	"time"

	"github.com/emersion/go-vcard"
)

// revLayouts are the forms of REV seen in the wild: ISO 8601 basic and
// extended, with a zone, with "Z", or floating (taken as UTC), with or
// without fractional seconds, and bare dates.
var revLayouts = []string{
	"20060102T150405Z0700",
	"20060102T150405Z07:00",
	"20060102T150405",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"20060102T1504Z0700",
	"2006-01-02T15:04Z07:00",
	"20060102",
	"2006-01-02",
}

// Revision returns the time in c's REV, or the zero time when c has none or
// it cannot be parsed.
func Revision(c vcard.Card) time.Time {
	f := c.Get(vcard.FieldRevision)
	if f == nil {
		return time.Time{}
	}
	return ParseRev(f.Value)
}

// ParseRev parses a REV value in ISO 8601 basic or extended form. It
// returns the zero time when s is not a date-time it knows.
func ParseRev(s string) time.Time {
	s = strings.TrimSpace(s)
	// Fractional seconds (",123" or ".123") are dropped: REV needs no more
	// than seconds, and dropping them keeps the layouts few.
	if i := strings.IndexAny(s, ".,"); i > 0 {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		s = s[:i] + s[j:]
	}
	for _, layout := range revLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
