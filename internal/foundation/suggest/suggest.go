// Package suggest finds the name a user most likely meant: the "did you mean" of unknown
// variables, flags and topics.
package suggest

import "strings"

// Closest returns the candidate that word most likely misspells, or "" when none is close:
// the same word in another case, else the candidate at the smallest edit distance, provided
// that distance is small for the word's length (a quarter of it, plus two).
func Closest(word string, candidates []string) string {
	best, bestDistance := "", len(word)/4+2 // this far or farther is no typo
	for _, c := range candidates {
		if strings.EqualFold(word, c) {
			return c
		}
		if d := Distance(strings.ToLower(word), strings.ToLower(c)); d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// Distance is the optimal string alignment distance between a and b: insertions,
// deletions, substitutions and swaps of adjacent bytes each count 1.
func Distance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
