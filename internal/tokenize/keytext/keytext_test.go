package keytext

import "testing"

func TestClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s                    string
		hex, digits, number3 bool
	}{
		{"", false, false, false},
		{"0", true, true, true},
		{"007", true, true, false},
		{"123", true, true, true},
		{"1234", true, true, false},
		{"ab12", true, false, false},
		{"AB", false, false, false},
		{"-1", false, false, false},
	} {
		if LowerHex(tc.s) != tc.hex || Digits(tc.s) != tc.digits || Number(tc.s, 3) != tc.number3 {
			t.Errorf("%q: LowerHex %v, Digits %v, Number(3) %v; want %v, %v, %v", tc.s,
				LowerHex(tc.s), Digits(tc.s), Number(tc.s, 3), tc.hex, tc.digits, tc.number3)
		}
	}
	if Atoi("0042") != 42 {
		t.Errorf("Atoi(0042) = %d, want 42", Atoi("0042"))
	}
}
