package report

import "io"

// WriteSummary writes a short plain-text summary for a terminal (kith
// report): the counts, this week's actions and how many possible
// duplicates there are. Names are stripped of control characters.
func (r *Report) WriteSummary(w io.Writer) error {
	v := newView(r)
	e := &errWriter{w: w}
	e.printf("kith report, %s\n%s\n", v.Date, countsLine(v))
	if len(v.Actions) == 0 {
		e.printf("\nNothing to do this week.\n")
	} else {
		e.printf("\nThis week:\n")
	}
	for i, a := range v.Actions {
		e.printf("%2d. %s %s\n    %s\n", i+1, verb(a.State), plain(a.Name), plain(a.Reason))
	}
	if n := len(v.Left) + v.LeftMore; n > 0 {
		e.printf("\n%d contact%s left %s sources (kith restore brings one back):\n", n, map[bool]string{true: "", false: "s"}[n == 1],
			map[bool]string{true: "its", false: "their"}[n == 1])
		for _, l := range v.Left {
			e.printf("    %s (%s), %s\n", l.Name, l.UID, l.Date)
		}
	}
	if n := v.DupsTotal; n > 0 {
		e.printf("\n%d possible duplicate%s; see report.md, report.html or kith duplicates.\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	return e.err
}
