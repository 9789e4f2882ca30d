//go:build race

package lint

// raceEnabled is true under the race detector, which makes the linter some
// ten times slower: the corpus self-diff then takes a sample.
const raceEnabled = true
