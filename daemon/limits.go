package daemon

import (
	"fmt"
	"strconv"
	"strings"

	"kith/sources/scans"
	"kith/sync/card"
)

// Limits is the [limits] table: the most kith reads of one file, card or
// calendar, so that a broken or hostile file costs bounded memory and time.
// An item over a limit is skipped like a broken one (its last good version
// stays in use) with a message naming the file and the key. The defaults
// are far above what real exports reach.
type Limits struct {
	// FileSize bounds one file of a scans folder (.vcf with many cards, .csv).
	FileSize Size `toml:"file_size"`
	// CardSize bounds one vCard (and so one file of a vdir).
	CardSize Size `toml:"card_size"`
	// Properties bounds the lines (TEL, EMAIL, …) of one card.
	Properties int `toml:"properties"`
	// CSVColumns bounds the columns of a CSV export's header.
	CSVColumns int `toml:"csv_columns"`
	// CSVRowSize bounds one row of a CSV export.
	CSVRowSize Size `toml:"csv_row_size"`
	// CalendarSize bounds one .ics file or CalDAV answer.
	CalendarSize Size `toml:"calendar_size"`
	// CardDAVAnswerSize bounds one CardDAV server answer (a listing, a
	// multiget batch, a sync report): a server that sends more fails the
	// request instead of filling memory.
	CardDAVAnswerSize Size `toml:"carddav_answer_size"`
	// CalendarDepth bounds how deeply calendar components nest
	// (VCALENDAR > VEVENT > VALARM is 3).
	CalendarDepth int `toml:"calendar_depth"`
}

// DefaultLimits are the limits of keys left out of [limits].
var DefaultLimits = Limits{
	FileSize:      128 << 20,
	CardSize:      16 << 20,
	Properties:    2000,
	CSVColumns:    1000,
	CSVRowSize:    1 << 20,
	CalendarSize:  64 << 20,
	CalendarDepth: 20,
	// A listing of about 300,000 cards, or a batch of 100 cards with
	// large photos.
	CardDAVAnswerSize: 128 << 20,
}

func (l *Limits) applyDefaults() {
	d := DefaultLimits
	for _, f := range []struct{ v, d *Size }{{&l.FileSize, &d.FileSize}, {&l.CardSize, &d.CardSize}, {&l.CSVRowSize, &d.CSVRowSize}, {&l.CalendarSize, &d.CalendarSize}, {&l.CardDAVAnswerSize, &d.CardDAVAnswerSize}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	for _, f := range []struct{ v, d *int }{{&l.Properties, &d.Properties}, {&l.CSVColumns, &d.CSVColumns}, {&l.CalendarDepth, &d.CalendarDepth}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
}

// validate reports limits too small for any real file: each names its key.
func (l *Limits) validate(bad func(key, format string, args ...any)) {
	for _, f := range []struct {
		key string
		v   Size
		min Size
	}{{"file_size", l.FileSize, 1 << 10}, {"card_size", l.CardSize, 1 << 10}, {"csv_row_size", l.CSVRowSize, 1 << 10}, {"calendar_size", l.CalendarSize, 1 << 10}, {"carddav_answer_size", l.CardDAVAnswerSize, 1 << 20}} {
		if f.v < f.min {
			bad("limits."+f.key, "%s is below the minimum of %s", card.FormatSize(int64(f.v)), card.FormatSize(int64(f.min)))
		}
	}
	for _, f := range []struct {
		key    string
		v, min int
	}{{"properties", l.Properties, 10}, {"csv_columns", l.CSVColumns, 10}, {"calendar_depth", l.CalendarDepth, 4}} {
		if f.v < f.min {
			bad("limits."+f.key, "%d is below the minimum of %d", f.v, f.min)
		}
	}
}

// card returns the limits of one card.
func (l Limits) card() card.Limits {
	return card.Limits{Size: int64(l.CardSize), Properties: l.Properties}
}

// scans returns the limits of a scans source.
func (l Limits) scans() scans.Limits {
	return scans.Limits{File: int64(l.FileSize), Card: l.card(), CSVColumns: l.CSVColumns, CSVRowSize: int64(l.CSVRowSize)}
}

// Size is a number of bytes, written in TOML as an integer or as a string
// with a unit: "512KB", "16 MB", "1GiB" (KB = KiB = 1024 bytes).
type Size int64

// UnmarshalTOML takes an integer or a string with a unit.
func (s *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("%d: a size must not be negative", v)
		}
		*s = Size(v)
		return nil
	case string:
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		*s = n
		return nil
	}
	return fmt.Errorf("%v: a size is an integer (bytes) or a string such as \"16MB\"", v)
}

// MarshalText writes the size as parseSize reads it back.
func (s Size) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(s), 10)), nil }

func parseSize(text string) (Size, error) {
	t := strings.ToUpper(strings.TrimSpace(text))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as \"16MB\" or a number of bytes", text)
	}
	return Size(n * mult), nil
}
