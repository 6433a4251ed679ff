package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/report"
)

// kith duplicates lists every possible duplicate the last merge found, not
// only the ones the report has room for, the likeliest first, with the
// UIDs kith join and kith explain take.
func TestDuplicatesListsThemAll(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	next := ksync.NewState()
	var ps []ksync.PossibleDuplicate
	n := report.MaxDuplicates + 20
	for i := range n {
		for _, side := range []string{"a", "b"} {
			uid := fmt.Sprintf("%s-%03d", side, i)
			c := testCardNamed(fmt.Sprintf("Sam Lee %03d%s", i, side))
			next.Contacts[uid] = &ksync.StoredContact{UID: uid, Card: c, Hash: card.Hash(c)}
		}
		ps = append(ps, ksync.PossibleDuplicate{A: fmt.Sprintf("a-%03d", i), B: fmt.Sprintf("b-%03d", i),
			Score: float64(i%50) / 50, Reason: "same name, emails differ"})
	}
	ps = append(ps, ksync.PossibleDuplicate{A: "a-007", B: "b-\x1b[31mred", Score: 0.995, Reason: "same phone"})
	b, _ := json.Marshal(ps)
	next.Meta[ksync.MetaPossible] = string(b)
	if err := st.Save(ctx, nil, next, state.Run{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Duplicates(ctx, st, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if got := strings.Count(text, "\n       same name, emails differ\n"); got != n {
		t.Errorf("%d pairs listed, want all %d:\n%s", got, n, text)
	}
	if !strings.HasPrefix(text, fmt.Sprintf("%d possible duplicate(s)", n+1)) {
		t.Errorf("output does not start with the count:\n%.300s", text)
	}
	first := strings.SplitN(text, "\n", 5)
	if len(first) < 4 || !strings.Contains(first[1], "0.995  Sam Lee 007a (a-007)") || strings.Contains(text, "\x1b") {
		t.Errorf("the likeliest pair is not first, or a control character got through:\n%.400s", text)
	}
	if i, j := strings.Index(text, "0.980  "), strings.Index(text, "0.000  "); i < 0 || j < 0 || i > j {
		t.Errorf("pairs not ordered by score")
	}
}

func testCardNamed(fn string) vcard.Card {
	c := vcard.Card{}
	c.SetValue("VERSION", "3.0")
	c.SetValue("FN", card.EscapeText(fn))
	return c
}
