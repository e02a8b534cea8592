// Package linear holds the circuits' shared helper for linear combinations.
package linear

import "github.com/consensys/gnark/frontend"

// Sum adds terms with one api.Add, which gnark keeps as a single linear
// expression: no constraint, however many terms.
func Sum(api frontend.API, terms []frontend.Variable) frontend.Variable {
	switch len(terms) {
	case 0:
		return 0
	case 1:
		return terms[0]
	}
	return api.Add(terms[0], terms[1], terms[2:]...)
}
