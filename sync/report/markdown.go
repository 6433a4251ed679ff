package report

import (
	"fmt"
	"io"
	"strings"

	"kith/sync/decay"
)

// errWriter remembers the first write error, so that renderers can write
// freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// md escapes text for Markdown: no character in it starts emphasis, a
// link, a table cell, an HTML tag or a heading.
func md(s string) string {
	var b strings.Builder
	for _, r := range plain(s) {
		if strings.ContainsRune("\\`*_{}[]<>()#+!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteMarkdown writes the report for people as Markdown (report.md).
func (r *Report) WriteMarkdown(w io.Writer) error {
	v := newView(r)
	e := &errWriter{w: w}
	e.printf("# kith report, %s\n\n", v.Date)
	e.printf("%s\n", countsLine(v))

	e.printf("\n## This week\n\n")
	if len(v.Actions) == 0 {
		e.printf("Nothing to do this week.\n")
	}
	for i, a := range v.Actions {
		e.printf("%d. **%s %s**: %s\n", i+1, verb(a.State), md(a.Name), md(a.Reason))
	}

	section := func(title, empty string, l list, extra func(Contact) string) {
		e.printf("\n## %s\n\n", title)
		if len(l.Items) == 0 {
			e.printf("%s\n", empty)
		}
		for _, c := range l.Items {
			e.printf("- %s (%s): %s\n", md(c.Name), md(extra(c)), md(c.Reason))
		}
		if l.More > 0 {
			e.printf("- and %d more\n", l.More)
		}
	}
	section("Follow-ups", "No one new is waiting for a follow-up.", v.FollowUps, circleNote)
	section("Fading close contacts", "No close contact is fading.", v.Fading, circleNote)
	section("Worth reviving", "No one to revive.", v.Reviving, func(c Contact) string {
		return fmt.Sprintf("%s, shared history %.2f", circleNote(c), c.Bond)
	})

	e.printf("\n## Possible duplicates\n\n")
	if len(v.Duplicates) == 0 {
		e.printf("None found.\n")
	}
	for _, d := range v.Duplicates {
		e.printf("- %s and %s: %s\n", md(d.A.Name), md(d.B.Name), md(d.Reason))
	}
	if v.DupsMore > 0 {
		e.printf("- and %d more; `kith duplicates` lists them all\n", v.DupsMore)
	}

	if len(v.Left) > 0 {
		e.printf("\n## Left their sources\n\nTheir cards left the address books; `kith restore UID` brings one back.\n\n")
		for _, l := range v.Left {
			e.printf("- %s (`%s`), %s%s\n", md(l.Name), md(l.UID), l.Date, map[bool]string{true: ", with what you wrote on the card"}[l.Edited])
		}
		if v.LeftMore > 0 {
			e.printf("- and %d more\n", v.LeftMore)
		}
	}

	e.printf("\n## States by week\n\n| week |")
	for _, s := range decay.States() {
		e.printf(" %s |", s)
	}
	e.printf("\n|---|%s\n", strings.Repeat("--:|", len(decay.States())))
	for _, wk := range v.Weeks {
		e.printf("| %s |", wk.Start)
		for _, s := range decay.States() {
			e.printf(" %d |", wk.Counts[string(s)])
		}
		e.printf("\n")
	}

	if len(v.Circles) > 0 {
		e.printf("\n## Circles\n\n| circle | contacts | typical size |\n|---|--:|--:|\n")
		for _, c := range v.Circles {
			e.printf("| %s | %d | %d |\n", c.Name, c.Size, c.Target)
		}
	}

	e.printf("\n## Days since the last interaction\n\n| last interaction | contacts |\n|---|--:|\n")
	for _, b := range v.Since {
		e.printf("| %s | %d |\n", b.Label, b.N)
	}
	return e.err
}

// countsLine says how many contacts there are in each state.
func countsLine(v *view) string {
	var parts []string
	for _, c := range v.Counts {
		parts = append(parts, fmt.Sprintf("%d %s", c.N, c.State))
	}
	s := fmt.Sprintf("%d contacts", v.Total)
	if v.Total == 1 {
		s = "1 contact"
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s + "."
}

// circleNote names a contact's circle: "close", "friends, inferred".
func circleNote(c Contact) string {
	if c.LastInteraction != nil && c.LastInteraction.Via != "" {
		return circleOnly(c) + "; last: " + c.LastInteraction.Via
	}
	return circleOnly(c)
}

// circleOnly names the contact's circle and whether it was inferred.
func circleOnly(c Contact) string {
	switch {
	case c.Circle == "":
		return "no circle"
	case c.CircleSet:
		return c.Circle
	default:
		return c.Circle + ", inferred"
	}
}
