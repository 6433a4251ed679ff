package sync

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kith/sync/card"
)

// wideCard is one card with n TEL, EMAIL or CATEGORIES lines.
func wideCard(n int, prop string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Wide Card\r\nN:Card;Wide;;;\r\n")
	for i := range n {
		switch prop {
		case "TEL":
			fmt.Fprintf(&b, "TEL;TYPE=CELL:+49 171 %07d\r\n", i)
		case "EMAIL":
			fmt.Fprintf(&b, "EMAIL:a%d@example.org\r\n", i)
		case "CATEGORIES":
			fmt.Fprintf(&b, "CATEGORIES:cat%d,x%d\r\n", i, i)
		}
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

// BenchmarkMergeWideCard merges one card with 20k lines of one property.
// Each used to cost time quadratic in the lines (CATEGORIES: 5 minutes for
// 20k, in merge.Golden; TEL and EMAIL in match's evidence and blocking
// keys); now about linear.
func BenchmarkMergeWideCard(b *testing.B) {
	for _, prop := range []string{"TEL", "EMAIL", "CATEGORIES"} {
		b.Run(prop, func(b *testing.B) {
			c, err := card.Decode([]byte(wideCard(20000, prop)))
			if err != nil {
				b.Fatal(err)
			}
			e, err := NewEngine("DE")
			if err != nil {
				b.Fatal(err)
			}
			in := Input{Snapshots: []Snapshot{{Source: "s", Full: true, Records: []Record{{Source: "s", ID: "a", Card: c, Hash: card.Hash(c)}}}}, Now: time.Now(), Priority: []string{"s"}}
			for b.Loop() {
				out, err := e.Merge(context.Background(), in)
				if err != nil || len(out.Contacts) != 1 {
					b.Fatalf("contacts %d, err %v", len(out.Contacts), err)
				}
			}
		})
	}
}
