package config

import (
	"slices"
	"strings"
)

// unknownVariables returns one warning per variable of environ, "NAME=value"
// entries as os.Environ returns them, that starts with ORDERGATE_ (in any
// case) but is not a known variable, sorted by name. It names the variable
// only: the value may be a misplaced secret.
func unknownVariables(environ []string) []string {
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(name), prefix) || isKnown(name) {
			continue
		}
		w := "unknown variable " + name
		if s := suggestVariable(name); s != "" {
			w += " (typo of " + s + "?)"
		}
		warnings = append(warnings, w)
	}
	slices.Sort(warnings)
	return slices.Compact(warnings) // a name may repeat in environ
}

func isKnown(name string) bool {
	return slices.ContainsFunc(variables, func(v variable) bool { return v.name == name })
}

// suggestVariable returns the known variable that name most likely misspells, or "":
// the same name in another case, a name missing its first words
// (ORDERGATE_BROKERS for ORDERGATE_KAFKA_BROKERS), or the closest name within
// a small edit distance.
func suggestVariable(name string) string {
	unknown := strings.TrimPrefix(strings.ToUpper(name), prefix)
	best, bestDistance := "", len(unknown)/4+2 // this far or farther is no typo
	for _, v := range variables {
		known := strings.TrimPrefix(v.name, prefix)
		if unknown == known || strings.HasSuffix(known, "_"+unknown) {
			return v.name
		}
		if d := distance(unknown, known); d < bestDistance {
			best, bestDistance = v.name, d
		}
	}
	return best
}

// Closest returns the candidate that word most likely misspells, or "" when none is close:
// the same word in another case, else the candidate at the smallest edit distance, provided
// that distance is small for the word's length (a quarter of it, plus two), as for
// variables. The commands use it for their flags, commands and topics ("did you mean").
func Closest(word string, candidates []string) string {
	best, bestDistance := "", len(word)/4+2 // this far or farther is no typo
	for _, c := range candidates {
		if strings.EqualFold(word, c) {
			return c
		}
		if d := distance(strings.ToLower(word), strings.ToLower(c)); d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes each
// count 1.
func distance(a, b string) int {
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
