package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
	"kith/sync/decay"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed clock of these tests: Wednesday 25 November 2026.
var now = time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)

func daysAgo(n int, kind string) ksync.Interaction {
	return ksync.Interaction{Date: time.Date(2026, 11, 25-n, 0, 0, 0, 0, time.UTC), Kind: kind, Source: "note", Ref: fmt.Sprintf("d%d", n), People: 1}
}

func meets(step, from, to int) []ksync.Interaction {
	var out []ksync.Interaction
	for d := from; d <= to; d += step {
		out = append(out, daysAgo(d, ksync.KindMeeting))
	}
	return out
}

// sample builds a report over a small address book that has one contact in
// every state, names that need escaping, duplicates and some history.
func sample() *Report {
	inputs := []decay.Input{
		{UID: "u-anna", Name: "Anna Berg", Interactions: meets(7, 2, 360), Categories: []string{"kith-inner"}},
		{UID: "u-ben", Name: "Ben Okafor", Interactions: meets(30, 75, 400), Categories: []string{"kith-close"}},
		{UID: "u-chloe", Name: "Chloé Martin", Interactions: []ksync.Interaction{daysAgo(6, ksync.KindCard)}, FirstSeen: now.AddDate(0, 0, -6)},
		{UID: "u-dev", Name: "Dev Patel", Interactions: []ksync.Interaction{daysAgo(20, ksync.KindMeeting)}},
		{UID: "u-eva", Name: "Eva Schmidt", Interactions: meets(60, 140, 900), Categories: []string{"kith-friends", "family"}},
		{UID: "u-farid", Name: "Farid Haddad", Interactions: meets(25, 40, 500)},
		{UID: "u-greta", Name: "Greta Lind", Interactions: meets(15, 500, 2000)},
		{UID: "u-hugo", Name: "Hugo Blanc", Interactions: meets(1, 1600, 1600)},
		{UID: "u-ines", Name: "Inès Duarte", Categories: []string{"kith-close"}},
		{UID: "u-jon", Name: "Jon <script>alert(1)</script>", Interactions: meets(9, 11, 300), Categories: []string{"kith-inner"}},
		{UID: "u-kai", Name: "Kai *Bold* [link](http://x) | pipe", Interactions: meets(30, 200, 700), Categories: []string{"kith-close"}},
		{UID: "u-lea", Name: "Lea \x1b[31mRed\x1b[0m \u202eevil", Interactions: []ksync.Interaction{daysAgo(3, ksync.KindCall)}},
		{UID: "u-mo", Name: "Mo Zhang", Interactions: []ksync.Interaction{daysAgo(100, ksync.KindMailSent), daysAgo(8, ksync.KindMailRecv)}},
	}
	p := decay.DefaultParams()
	var as []decay.Assessment
	r := &Report{GeneratedAt: now}
	for _, in := range inputs {
		as = append(as, decay.Assess(in, now, p))
		r.Contacts = append(r.Contacts, Contact{UID: in.UID, Name: in.Name, Members: []ksync.RecordKey{{Source: "phone", ID: in.UID + ".vcf"}}})
	}
	Sort(r.Contacts)
	r.Assess(as, p)
	// More than a rendered list shows, in no order: the likeliest first.
	dups := []Duplicate{
		{A: Ref{"u-anna", "Anna Berg"}, B: Ref{"u-x", "Anna Berg-Smith"}, Score: 4.5, Reason: "same phone +49 30 1234567, names differ"},
	}
	for i := range 17 {
		dups = append(dups, Duplicate{A: Ref{fmt.Sprintf("u-s%02d", i), "Sam Lee"}, B: Ref{fmt.Sprintf("u-t%02d", i), "Sam Lee"},
			Score: float64(i%5) * 0.75, Reason: "same name, emails differ"})
	}
	r.SetDuplicates(dups)
	for i := 8; i >= 1; i-- {
		r.History = append(r.History, Week{
			Start:  time.Date(2026, 11, 23-7*i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
			Counts: map[string]int{"healthy": 3 + i%3, "due": 1 + i%2, "fading": 2, "cold": 1 + (8-i)/3, "dormant": 1, "none": 1, "follow-up": i % 2},
		})
	}
	// This week's entry is already stored: it must not show twice.
	r.History = append(r.History, Week{Start: "2026-11-23", Counts: map[string]int{"healthy": 99}})
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff\n--- got:\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		file  string
		write func(r *Report, b *bytes.Buffer) error
	}{
		{"report.json", func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{"report.md", func(r *Report, b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
		{"report.html", func(r *Report, b *bytes.Buffer) error { return r.WriteHTML(b) }},
		{"summary.txt", func(r *Report, b *bytes.Buffer) error { return r.WriteSummary(b) }},
		{"empty.json", func(_ *Report, b *bytes.Buffer) error { return (&Report{GeneratedAt: now}).WriteJSON(b) }},
		{"empty.md", func(_ *Report, b *bytes.Buffer) error { return (&Report{GeneratedAt: now}).WriteMarkdown(b) }},
		{"empty.html", func(_ *Report, b *bytes.Buffer) error { return (&Report{GeneratedAt: now}).WriteHTML(b) }},
		{"empty-summary.txt", func(_ *Report, b *bytes.Buffer) error { return (&Report{GeneratedAt: now}).WriteSummary(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(sample(), &b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
		})
	}
}

// TestJSONFields checks the fields issue 6 asks of every contact and of
// the report.
func TestJSONFields(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Contacts []map[string]any `json:"contacts"`
		Actions  []map[string]any `json:"actions"`
		Dups     []map[string]any `json:"possible_duplicates"`
		History  []map[string]any `json:"history"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Contacts {
		for _, k := range []string{"uid", "name", "members", "last_interaction", "circle", "state", "reason", "strength"} {
			if _, ok := c[k]; !ok {
				t.Errorf("contact %v has no %q", c["uid"], k)
			}
		}
		if li, ok := c["last_interaction"].(map[string]any); ok {
			for _, k := range []string{"date", "kind", "source"} {
				if _, ok := li[k]; !ok {
					t.Errorf("contact %v: last_interaction has no %q", c["uid"], k)
				}
			}
		} else if c["last_interaction"] != nil || c["state"] != "none" {
			t.Errorf("contact %v: last_interaction %v with state %v", c["uid"], c["last_interaction"], c["state"])
		}
	}
	if len(doc.Actions) == 0 || len(doc.Actions) > MaxActions {
		t.Errorf("%d actions, want 1..%d", len(doc.Actions), MaxActions)
	}
	if len(doc.Dups) != 18 || len(doc.History) == 0 {
		t.Errorf("duplicates %v, history %v", doc.Dups, doc.History)
	}
	for _, d := range doc.Dups {
		for _, k := range []string{"a", "b", "score", "reason"} {
			if _, ok := d[k]; !ok {
				t.Errorf("duplicate %v has no %q", d, k)
			}
		}
	}
}

func TestStatesInSample(t *testing.T) {
	r := sample()
	got := r.StateCounts()
	for _, s := range decay.States() {
		if got[string(s)] == 0 {
			t.Errorf("sample has no %s contact: %v", s, got)
		}
	}
	for _, a := range r.Actions {
		if a.State == string(decay.StateDormant) || a.State == string(decay.StateHealthy) {
			t.Errorf("action for a %s contact: %+v", a.State, a)
		}
	}
	if r.Actions[0].State != string(decay.StateFollowUp) {
		t.Errorf("first action %+v, want a follow-up", r.Actions[0])
	}
}

// TestEscaping checks that names cannot inject markup or terminal codes.
func TestEscaping(t *testing.T) {
	r := sample()
	var h, m, s bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSummary(&s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.String(), "<script") {
		t.Error("HTML contains a script element from a name")
	}
	if strings.Contains(m.String(), "<script>") || strings.Contains(m.String(), "[link](http") {
		t.Error("Markdown carries a name's markup through")
	}
	for name, out := range map[string]string{"html": h.String(), "md": m.String(), "summary": s.String()} {
		if strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("%s output contains an escape or bidi control character", name)
		}
	}
}

func TestWeekOf(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), "2026-11-23"},
		{time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "2026-11-23"},
		{time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC), "2026-11-23"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2026-12-28"},
	}
	for _, tt := range tests {
		if got := WeekOf(tt.t); got != tt.want {
			t.Errorf("WeekOf(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteErrors(t *testing.T) {
	r := sample()
	for name, err := range map[string]error{
		"markdown": r.WriteMarkdown(failWriter{}),
		"html":     r.WriteHTML(failWriter{}),
		"summary":  r.WriteSummary(failWriter{}),
	} {
		if err == nil {
			t.Errorf("%s: write error lost", name)
		}
	}
}

// The report lists at most MaxDuplicates possible duplicates, the highest
// scores first, and counts the rest; the pages show the first few and
// point to kith duplicates for all of them.
func TestDuplicatesCapped(t *testing.T) {
	r := &Report{GeneratedAt: now}
	var dups []Duplicate
	n := MaxDuplicates + 37
	for i := range n {
		dups = append(dups, Duplicate{A: Ref{fmt.Sprintf("a%04d", i), "A"}, B: Ref{fmt.Sprintf("b%04d", i), "B"}, Score: float64((i*7919)%n) / 100})
	}
	r.SetDuplicates(dups)
	if len(r.PossibleDuplicates) != MaxDuplicates || r.DuplicatesMore != 37 {
		t.Fatalf("%d listed, %d more; want %d and 37", len(r.PossibleDuplicates), r.DuplicatesMore, MaxDuplicates)
	}
	for i, d := range r.PossibleDuplicates {
		if want := float64(n-1-i) / 100; d.Score != want {
			t.Fatalf("duplicate %d has score %v, want %v: not the highest first", i, d.Score, want)
		}
	}
	var md, sum bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), fmt.Sprintf("and %d more; `kith duplicates` lists them all", n-listMax)) {
		t.Errorf("report.md does not count the duplicates it leaves out:\n%s", md.String())
	}
	if !strings.Contains(sum.String(), fmt.Sprintf("%d possible duplicates", n)) {
		t.Errorf("summary does not count every possible duplicate:\n%s", sum.String())
	}
	var doc map[string]any
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["possible_duplicates_more"] != float64(37) {
		t.Errorf("report.json possible_duplicates_more = %v, want 37", doc["possible_duplicates_more"])
	}
}
