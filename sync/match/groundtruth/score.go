package groundtruth

import (
	"fmt"
	"strings"
)

// Metrics are pairwise clustering quality figures: a pair of records is
// predicted when a clustering puts both in one group, and true when both
// describe the same person.
type Metrics struct {
	// TruePairs, PredictedPairs and Correct count pairs.
	TruePairs, PredictedPairs, Correct int
	// Precision, Recall and F1 are pairwise; 1 when there is nothing to count.
	Precision, Recall, F1 float64
	// WrongMerges counts predicted pairs of different people, by what the
	// two people share: "household", "company" (a switchboard, info@),
	// "name" (namesakes), "other".
	WrongMerges map[string]int
	// Examples are a few wrongly merged pairs, as record keys, for debugging.
	Examples []string
}

// Score compares groups (each a list of indexes into w.Records) with the truth.
func (w *World) Score(groups [][]int) Metrics {
	m := Metrics{WrongMerges: map[string]int{}}
	perPerson := map[int]int{}
	for _, r := range w.Records {
		perPerson[r.Person]++
	}
	for _, n := range perPerson {
		m.TruePairs += n * (n - 1) / 2
	}
	for _, g := range groups {
		m.PredictedPairs += len(g) * (len(g) - 1) / 2
		count := map[int]int{}
		for _, i := range g {
			count[w.Records[i].Person]++
		}
		for _, n := range count {
			m.Correct += n * (n - 1) / 2
		}
		if len(count) < 2 {
			continue
		}
		for a := 0; a < len(g); a++ {
			for b := a + 1; b < len(g); b++ {
				pa, pb := w.Records[g[a]].Person, w.Records[g[b]].Person
				if pa == pb {
					continue
				}
				why := w.relation(pa, pb)
				m.WrongMerges[why]++
				if len(m.Examples) < 10 {
					m.Examples = append(m.Examples, fmt.Sprintf("%s (%s) + %s (%s): %s",
						w.Records[g[a]].Key, w.People[pa].Given+" "+w.People[pa].Family,
						w.Records[g[b]].Key, w.People[pb].Given+" "+w.People[pb].Family, why))
				}
			}
		}
	}
	m.Precision, m.Recall = ratio(m.Correct, m.PredictedPairs), ratio(m.Correct, m.TruePairs)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// relation says what two different people share.
func (w *World) relation(a, b int) string {
	pa, pb := &w.People[a], &w.People[b]
	switch {
	case pa.Household >= 0 && pa.Household == pb.Household:
		return "household"
	case pa.Company >= 0 && (pa.Company == pb.Company || pa.Company == pb.OldCompany) ||
		pa.OldCompany >= 0 && (pa.OldCompany == pb.Company || pa.OldCompany == pb.OldCompany):
		return "company"
	case pa.Namesake == b || pb.Namesake == a || pa.Given == pb.Given && pa.Family == pb.Family:
		return "name"
	}
	return "other"
}

// Row formats m as a markdown table row: label, precision, recall, F1, wrong merges.
func (m Metrics) Row(label string) string {
	wrong := m.PredictedPairs - m.Correct
	var parts []string
	for _, k := range []string{"household", "company", "name", "other"} {
		if n := m.WrongMerges[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	detail := ""
	if len(parts) > 0 {
		detail = " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("| %s | %.4f | %.4f | %.4f | %d%s |", label, m.Precision, m.Recall, m.F1, wrong, detail)
}

// TableHeader is the header of the markdown table Row writes rows of.
const TableHeader = "| matcher | precision | recall | F1 | wrong pairs (people sharing) |\n|---|---|---|---|---|"
