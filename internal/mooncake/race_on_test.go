//go:build race

package mooncake_test

// raceEnabled: heap measurements mean little under the race detector.
const raceEnabled = true
