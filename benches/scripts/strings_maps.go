// strings_maps: 4 rounds of: build a large text from a fixed word list with a
// Park-Miller LCG, split it into words, count them in one map (counts[w]++);
// then build a report with strings.Builder and hash it. All integer arithmetic
// stays below 2^53 (no wrapping), so every language computes the same numbers.
package main

import (
	"fmt"
	"strconv"
	"strings"
)

const ROUNDS = 4
const N = 1000000

var words = []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
	"iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
	"upsilon", "phi", "chi", "psi", "omega"}

var seed = 42

func nextr() int {
	seed = seed * 16807 % 2147483647
	return seed
}

func main() {
	nwords := len(words)
	counts := map[string]int{}
	order := []string{}
	total := 0
	textlen := 0
	for r := 0; r < ROUNDS; r++ {
		// Build the text.
		var b strings.Builder
		for i := 0; i < N; i++ {
			a := nextr() % nwords
			c := nextr() % 500
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(words[a])
			b.WriteString(strconv.Itoa(c))
		}
		text := b.String()
		textlen += len(text)

		// Split and count, remembering first-seen order.
		for _, w := range strings.Split(text, " ") {
			total++
			if _, ok := counts[w]; !ok {
				order = append(order, w)
			}
			counts[w]++
		}
	}

	// Build the report.
	var out strings.Builder
	for _, w := range order {
		out.WriteString(w)
		out.WriteString("=")
		out.WriteString(strconv.Itoa(counts[w]))
		out.WriteString("\n")
	}
	report := out.String()

	// Hash it.
	h := 0
	for i := 0; i < len(report); i++ {
		h = (h*31 + int(report[i])) % 1000000007
	}

	fmt.Printf("distinct %d total %d text %d report %d hash %d\n",
		len(order), total, textlen, len(report), h)
}
