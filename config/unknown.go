package config

import (
	"slices"
	"strings"

	"github.com/ordergate/ordergate/internal/foundation/suggest"
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
		if d := suggest.Distance(unknown, known); d < bestDistance {
			best, bestDistance = v.name, d
		}
	}
	return best
}
