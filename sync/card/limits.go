package card

import (
	"fmt"
	"strings"
)

// Limits bound what one card may hold, so that a hostile or broken file
// costs a bounded amount of memory and time. A zero field means no limit.
type Limits struct {
	// Size is the largest card, in bytes of its text (from BEGIN:VCARD to
	// END:VCARD, folded lines joined).
	Size int64
	// Properties is the largest number of properties (lines) of one card.
	Properties int
}

// LimitError is an input over one of kith's limits. Callers skip the item
// like a broken one (its last good version stays in use).
type LimitError struct {
	// Key is the limit's key in the config file's [limits] table.
	Key string
	// What names what was measured ("card", "file", "header").
	What string
	// Unit is what Got and Max count ("properties", "columns"); "" for
	// bytes.
	Unit string
	// Got is what the input had, 0 when only "more than Max" is known.
	Got, Max int64
}

// Error says what was over which limit, naming the config key.
func (e *LimitError) Error() string {
	f := func(n int64) string {
		if e.Unit == "" {
			return FormatSize(n)
		}
		return fmt.Sprintf("%d %s", n, e.Unit)
	}
	got := "more than " + f(e.Max)
	if e.Got > 0 {
		got = f(e.Got)
	}
	lim := FormatSize(e.Max)
	if e.Unit != "" {
		lim = fmt.Sprint(e.Max)
	}
	return fmt.Sprintf("%s: %s, over the limit [limits] %s = %s", e.What, got, e.Key, lim)
}

// FormatSize writes a byte count for people: "512 B", "1.5 KiB", "20 MiB".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	s := fmt.Sprintf("%.1f", float64(n)/float64(div))
	s = strings.TrimSuffix(s, ".0")
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB"}[exp]
}
