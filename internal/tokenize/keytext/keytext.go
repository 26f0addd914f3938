// Package keytext is the character classes the parsers of stored keys
// share (sglangkey.Parse, vllmkey.Parse, the doctor's inventory of LMCache
// keys): lowercase hex, decimal numbers, their value. It holds no key
// format: each parser keeps its own.
package keytext

// LowerHex reports whether s is non-empty lowercase hex.
func LowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s) > 0
}

// Digits reports whether s is non-empty ASCII digits (leading zeros
// allowed).
func Digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// Number reports whether s is a decimal number as Python's str(int) writes
// a non-negative one: digits without a leading zero ("0" itself is one),
// of at most maxDigits.
func Number(s string, maxDigits int) bool {
	return len(s) <= maxDigits && Digits(s) && (len(s) == 1 || s[0] != '0')
}

// Atoi is the value of s, which Digits or Number accepted (short enough
// not to overflow).
func Atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
