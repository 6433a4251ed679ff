package match

import (
	"math"
	"slices"
)

// Households. Fellegi-Sunter adds the weights of the fields as if they
// were independent, and for people of one home they are not: a household
// shares its address and its landline, mostly its family name, sometimes
// a given name (a father and son). Two members' cards agree on address,
// home phone and family name, three strong agreements, and independence
// scores them as one person.
//
// So pairs that share a home (an address or a landline) are judged a
// second way, against a third explanation beside "one person" and
// "unrelated": two people of one household. What the home fields say
// cancels between one person and one household (both share them); what
// is left is the personal evidence: given and family name, birthday, a
// personal email or mobile, employer. How often a shared home means one
// person (λ), and how a household's members compare on given and family
// names (h), are estimated from the book by expectation-maximisation over
// its pairs that share a home. A book without households (Febrl) learns λ
// near 1 and keeps its weights; a book full of them learns that a shared
// home alone is no evidence of one person.

// hhPrior is the pseudo-pairs behind the prior h.
const hhPrior = 20.0

// household is the household model.
type household struct {
	// lambda is log2 of the odds that a pair sharing a home is one person.
	lambda float64
	// w is log2(m/h) of the given and family name levels: how much more
	// one person's cards show the level than two members of a household.
	w [nComp][]float64
	// pairs is the number of candidate pairs sharing a home.
	pairs float64
	set   bool
}

// sharesHome reports whether a pair agrees on a household field: nearly
// the same address, or the same home phone, or a landline while their
// mobiles differ.
func sharesHome(v *vector) bool {
	return v[cAddress] >= 3 || v[cPhone] == 5 || v[cPhone] == 6
}

// hhNames are the comparisons whose household h is estimated.
func hhNames(c int) bool { return c == cGiven || c == cFamily }

// personalTerm is the weight of comparison c at level l between one person
// and two members of a household: the home fields cancel (address,
// landline, and employer and title, which colleagues at one office
// share); the rest compares like strangers (h = u).
func (hh *household) personalTerm(md *model, c int, l int8, tfPhone float32) float64 {
	switch {
	case l == null, c == cAddress, c == cOrg, c == cTitle:
		// Shared by a home, or by colleagues at one office.
		return 0
	case c == cPhone && l == 5:
		// A landline shared and two mobiles that differ: the mobiles.
		return md.w[c][1]
	case c == cPhone && l == 6, c == cPhone && l == 3 && tfPhone < 0:
		// A home's phone, or a line different families carry (an
		// office's switchboard).
		return 0
	case c == cPhone && l == 3:
		return md.w[c][l] + float64(tfPhone)
	case hhNames(c):
		return hh.w[c][l]
	}
	return md.w[c][l]
}

// odds returns log2 of the odds that a pair with levels v is one person
// rather than two of one household, when it shares a home; tfPhone is
// the phone's term-frequency adjustment.
func (hh *household) odds(md *model, v *vector, tfPhone float32) (float64, bool) {
	if !hh.set || !sharesHome(v) {
		return 0, false
	}
	w := hh.lambda
	for c, l := range v {
		w += hh.personalTerm(md, c, l, tfPhone)
	}
	return w, true
}

// pattern is a comparison vector and how many candidate pairs show it.
type pattern struct {
	v vector
	n float64
}

// estimateHousehold fits λ and h by EM over the candidate pairs that share
// a home (ps), m and u held as estimated.
func (md *model) estimateHousehold(ps []pattern) {
	hh := &md.hh
	hh.pairs = 0
	for _, p := range ps {
		hh.pairs += p.n
	}
	h, prior := [nComp][]float64{}, [nComp][]float64{}
	for c := range comparisons {
		if hhNames(c) {
			// A household's names compare like strangers' until the
			// book shows otherwise.
			prior[c] = md.u[c]
			h[c] = slices.Clone(prior[c])
			hh.w[c] = make([]float64, len(comparisons[c].levels))
		}
	}
	setW := func() {
		for c := range comparisons {
			if hhNames(c) {
				for l, lv := range comparisons[c].levels {
					hh.w[c][l] = clampWeight(lv, md.m[c][l], h[c][l])
				}
			}
		}
	}
	setW()
	hh.lambda = math.Log2(0.5 / 0.5)
	hh.set = true
	for range emRounds {
		var counts [nComp][]float64
		var sums [nComp]float64
		for c := range comparisons {
			if hhNames(c) {
				counts[c] = make([]float64, len(comparisons[c].levels))
			}
		}
		one := 0.0
		for _, p := range ps {
			w, _ := hh.odds(md, &p.v, 0)
			post := probability(w)
			one += post * p.n
			for c, l := range p.v {
				if l != null && hhNames(c) {
					counts[c][l] += (1 - post) * p.n
					sums[c] += (1 - post) * p.n
				}
			}
		}
		// With few pairs the prior odds stay near even: a book of one
		// household learns nothing from it.
		rate := min(max((one+hhPrior*0.5)/(hh.pairs+hhPrior), 0.001), 0.999)
		hh.lambda = math.Log2(rate / (1 - rate))
		for c := range comparisons {
			if !hhNames(c) {
				continue
			}
			for l := range comparisons[c].levels {
				h[c][l] = (counts[c][l] + hhPrior*prior[c][l]) / (sums[c] + hhPrior)
			}
			if c == cGiven {
				// Two members of a household have different given names, or
				// the same (a father and son): a near spelling, an initial
				// or a nickname they share no more often than strangers.
				free := 1.0
				for l := int8(1); l < 5; l++ {
					h[c][l] = md.u[c][l]
					free -= h[c][l]
				}
				s := h[c][0] + h[c][5]
				h[c][0], h[c][5] = h[c][0]*free/s, h[c][5]*free/s
			}
		}
		setW()
	}
}
