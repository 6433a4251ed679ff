package groundtruth

import (
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

func TestGenerateDeterministic(t *testing.T) {
	a := Generate(Config{Seed: 5, People: 300})
	b := Generate(Config{Seed: 5, People: 300})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("equal seeds gave different worlds")
	}
	c := Generate(Config{Seed: 6, People: 300})
	if reflect.DeepEqual(a.Records, c.Records) {
		t.Fatal("different seeds gave the same world")
	}
}

// TestGenerateHardCases checks that a world holds every case matching must
// get right.
func TestGenerateHardCases(t *testing.T) {
	w := Generate(Config{Seed: 1, People: 3000})
	if len(w.People) != 3000 {
		t.Fatalf("%d people, want 3000", len(w.People))
	}
	count := map[string]int{}
	seen := map[int]int{}
	keys := map[string]bool{}
	for _, r := range w.Records {
		seen[r.Person]++
		if keys[r.Key] {
			t.Fatalf("key %s twice", r.Key)
		}
		keys[r.Key] = true
		count["kind "+r.Kind]++
		fn := r.Card.Value(vcard.FieldFormattedName)
		p := w.People[r.Person]
		switch {
		case strings.Contains(fn, ","):
			count["swapped"]++
		case strings.Contains(fn, ". ") && len(strings.Fields(fn)[0]) == 2:
			count["initial"]++
		}
		if r.Scanned && !strings.Contains(fn, p.Given) {
			count["ocr or variant in scan"]++
		}
		if strings.Contains(fn, "ue") && strings.ContainsAny(p.Family+p.Given, "üöä") {
			count["transliterated"]++
		}
		for _, tel := range r.Card[vcard.FieldTelephone] {
			if strings.HasPrefix(tel.Value, "0") && !strings.HasPrefix(tel.Value, "00") {
				count["national phone"]++
			}
		}
	}
	for i := range w.People {
		if seen[i] == 0 {
			t.Fatalf("person %d has no record", i)
		}
		p := &w.People[i]
		if p.Household >= 0 {
			count["in a household"]++
		}
		if p.Namesake >= 0 {
			count["namesake"]++
		}
		if p.OldCompany >= 0 {
			count["changed employer"]++
		}
		if seen[i] > 1 {
			count["duplicated"]++
		}
	}
	for _, k := range []string{"kind phonebook", "kind work", "kind oldwork", "kind scan", "kind minimal",
		"swapped", "initial", "ocr or variant in scan", "transliterated", "national phone",
		"in a household", "namesake", "changed employer", "duplicated"} {
		if count[k] < 10 {
			t.Errorf("%s: %d, want at least 10", k, count[k])
		}
	}
	t.Log(count)
}

func TestScore(t *testing.T) {
	w := World{
		Records: []Record{{Key: "a", Person: 0}, {Key: "b", Person: 0}, {Key: "c", Person: 1}, {Key: "d", Person: 2}},
		People: []Person{
			{Given: "Ann", Family: "Lee", Household: 0, Company: -1, OldCompany: -1, Namesake: -1},
			{Given: "Bob", Family: "Lee", Household: 0, Company: -1, OldCompany: -1, Namesake: -1},
			{Given: "Ann", Family: "Lee", Household: -1, Company: -1, OldCompany: -1, Namesake: 0},
		},
	}
	m := w.Score([][]int{{0, 1, 2}, {3}})
	if m.TruePairs != 1 || m.PredictedPairs != 3 || m.Correct != 1 || m.WrongMerges["household"] != 2 {
		t.Errorf("Score = %+v", m)
	}
	if m.Recall != 1 || m.Precision != 1.0/3 {
		t.Errorf("precision %v recall %v", m.Precision, m.Recall)
	}
	m = w.Score([][]int{{0}, {1}, {2, 3}})
	if m.Recall != 0 || m.WrongMerges["name"] != 0 || m.WrongMerges["other"] != 1 {
		t.Errorf("Score = %+v", m)
	}
	m = w.Score([][]int{{0, 3}, {1}, {2}})
	if m.WrongMerges["name"] != 1 {
		t.Errorf("namesakes: %+v", m)
	}
}
