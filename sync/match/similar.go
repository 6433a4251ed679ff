package match

import "math/bits"

// mayBeSimilar reports whether a and b could be similar enough for
// jaroWinkler >= 0.88 or two edits: a bound from the letters they have in
// common, far cheaper than either.
func mayBeSimilar(a, b string) bool {
	return mayBeSimilarLetters(a, b, letterMask(a), letterMask(b))
}

// mayBeSimilarForms is mayBeSimilar of the forms' flat names, with the
// letter masks made once per form.
func mayBeSimilarForms(x, y *form) bool {
	return mayBeSimilarLetters(x.flat, y.flat, x.letters, y.letters)
}

// mayBeSimilarLetters is mayBeSimilar(a, b), given ma = letterMask(a)
// and mb = letterMask(b). Every byte of a whose mask bit b lacks has no
// partner in b, so the letters in common are at most la less the bits
// only a has (and lb less those only b has): most pairs of different
// names fail that bound, and never need the count.
func mayBeSimilarLetters(a, b string, ma, mb uint64) bool {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return false
	}
	bound := min(la-bits.OnesCount64(ma&^mb), lb-bits.OnesCount64(mb&^ma))
	if !similarCounts(bound, la, lb) {
		return false
	}
	return similarCounts(commonLetters(a, b), la, lb)
}

// letterMask has bit c&63 set for every byte c of s.
func letterMask(s string) uint64 {
	var m uint64
	for i := 0; i < len(s); i++ {
		m |= 1 << (s[i] & 63)
	}
	return m
}

// commonLetters counts the bytes a and b have in common, with repeats:
// the sum over byte values of the fewer of their counts in a and in b.
func commonLetters(a, b string) int {
	var ca [256]uint8
	for i := 0; i < len(a); i++ {
		ca[a[i]]++
	}
	m := 0
	for i := 0; i < len(b); i++ {
		if ca[b[i]] > 0 {
			ca[b[i]]--
			m++
		}
	}
	return m
}

// similarCounts reports whether m letters in common of strings of
// lengths la and lb (both > 0) allow the similarity mayBeSimilar asks for:
// Jaro-Winkler >= 0.88 needs Jaro >= 0.8, so m/la + m/lb >= 1.4; two
// edits need m >= max(la, lb) - 2. It only grows with m.
func similarCounts(m, la, lb int) bool {
	return float64(m)/float64(la)+float64(m)/float64(lb) >= 1.4 || m >= max(la, lb)-2
}

// jaroWinkler returns the Jaro-Winkler similarity of a and b (bytes of
// loose-folded text), between 0 and 1.
func jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > 64 || lb > 64 {
		a, b = a[:min(la, 64)], b[:min(lb, 64)]
		la, lb = len(a), len(b)
	}
	win := max(la, lb)/2 - 1
	if win < 0 {
		win = 0
	}
	var ma, mb uint64
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-win), min(lb, i+win+1)
		for j := lo; j < hi; j++ {
			if mb&(1<<j) == 0 && a[i] == b[j] {
				ma |= 1 << i
				mb |= 1 << j
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	trans, j := 0, 0
	for i := 0; i < la; i++ {
		if ma&(1<<i) == 0 {
			continue
		}
		for mb&(1<<j) == 0 {
			j++
		}
		if a[i] != b[j] {
			trans++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(trans)/2)/m) / 3
	prefix := 0
	for prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// editsWithin reports whether a and b are at most k edits apart (insert,
// delete, substitute, swap of neighbours: Damerau-Levenshtein, optimal string
// alignment), for short k.
func editsWithin(a, b string, k int) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > k {
		return false
	}
	if k == 1 {
		return within1(a, b)
	}
	if len(b) > 64 {
		return a == b
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)] <= k
}
