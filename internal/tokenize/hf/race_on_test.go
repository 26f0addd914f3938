//go:build race

package hf

// raceEnabled: the race detector slows the matcher about tenfold.
const raceEnabled = true
