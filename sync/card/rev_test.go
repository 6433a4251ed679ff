package card

import (
	"testing"
	"time"
)

func TestParseRev(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"20240102T030405Z", utc(2024, 1, 2, 3, 4, 5)},
		{"2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5)},
		{"2024-01-02T03:04:05+02:00", utc(2024, 1, 2, 1, 4, 5)},
		{"20240102T030405+0200", utc(2024, 1, 2, 1, 4, 5)},
		{"20240102T030405-0130", utc(2024, 1, 2, 4, 34, 5)},
		{"2024-01-02T03:04:05.123Z", utc(2024, 1, 2, 3, 4, 5)},
		{"20240102T030405,5Z", utc(2024, 1, 2, 3, 4, 5)},
		{"20240102T030405", utc(2024, 1, 2, 3, 4, 5)},
		{"2024-01-02T03:04:05", utc(2024, 1, 2, 3, 4, 5)},
		{" 2024-01-02 ", utc(2024, 1, 2, 0, 0, 0)},
		{"20240102", utc(2024, 1, 2, 0, 0, 0)},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
		{"2024-13-45", time.Time{}},
	} {
		if got := ParseRev(tc.in); !got.Equal(tc.want) {
			t.Errorf("ParseRev(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
