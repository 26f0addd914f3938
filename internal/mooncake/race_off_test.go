//go:build !race

package mooncake_test

const raceEnabled = false
