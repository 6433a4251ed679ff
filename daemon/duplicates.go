package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/report"
)

// duplicates names the possible duplicates' contacts (names: UID → name).
func duplicates(ps []ksync.PossibleDuplicate, names map[string]string) []report.Duplicate {
	out := make([]report.Duplicate, 0, len(ps))
	for _, p := range ps {
		out = append(out, report.Duplicate{
			A: report.Ref{UID: p.A, Name: names[p.A]}, B: report.Ref{UID: p.B, Name: names[p.B]}, Score: p.Score, Reason: p.Reason,
		})
	}
	return out
}

// Duplicates writes every possible duplicate the last merge found, the
// likeliest first (the report lists only the first report.MaxDuplicates):
// the score (0 to 1), both contacts with their UIDs (for kith join or
// kith explain), and why they look alike. It reads no card.
func Duplicates(ctx context.Context, st *state.Store, w io.Writer) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return err
	}
	ps, err := ksync.PossibleFromMeta(meta)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	names, err := st.ContactNames(ctx)
	if err != nil {
		return err
	}
	ds := duplicates(ps, names)
	report.SortDuplicates(ds)
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "No possible duplicates.")
		return err
	}
	// bufio keeps the first write error for Flush to return.
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d possible duplicate(s), the likeliest first (score 0 to 1):\n", len(ds))
	for _, d := range ds {
		fmt.Fprintf(bw, "%.3f  %s (%s)\n       %s (%s)\n       %s\n", d.Score, report.Plain(d.A.Name), report.Plain(d.A.UID),
			report.Plain(d.B.Name), report.Plain(d.B.UID), report.Plain(d.Reason))
	}
	fmt.Fprintf(bw, "kith join UID UID merges a pair; kith explain UID shows a contact's records.\n")
	return bw.Flush()
}
