package iostreams

import "testing"

func TestColorPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		tty  bool
		want bool
	}{
		{nil, true, true},
		{nil, false, false},
		{map[string]string{"NO_COLOR": "1"}, true, false},
		{map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, true, false},
		{map[string]string{"CLICOLOR": "0"}, true, false},
		{map[string]string{"CLICOLOR_FORCE": "1"}, false, true},
		{map[string]string{"CLICOLOR_FORCE": "0"}, false, false},
		{map[string]string{"TERM": "dumb"}, true, false},
	}
	for _, c := range cases {
		if got := ColorPolicy(func(k string) string { return c.env[k] }, c.tty); got != c.want {
			t.Errorf("%v tty=%v: %v, want %v", c.env, c.tty, got, c.want)
		}
	}
}

func TestStylesOffAreNoOps(t *testing.T) {
	t.Parallel()
	s, _, _, _ := Test()
	st := s.Styles()
	if st.Hit.Render("HIT") != "HIT" || st.HitBar(1, 4, 8) != "##......" {
		t.Fatalf("colour off: Hit.Render(HIT) = %q, HitBar(1, 4, 8) = %q; want %q, %q", st.Hit.Render("HIT"), st.HitBar(1, 4, 8), "HIT", "##......")
	}
	s.SetColorEnabled(true)
	if st := s.Styles(); st.Hit.Render("HIT") == "HIT" {
		t.Fatalf("colour on: Hit.Render(HIT) = %q, want it styled", st.Hit.Render("HIT"))
	}
}

func TestElide(t *testing.T) {
	t.Parallel()
	if got, want := ElideMiddle("abcdefghij", 7), "abc…hij"; got != want {
		t.Fatalf("ElideMiddle(abcdefghij, 7) = %q, want %q", got, want)
	}
	if got, want := Truncate("abcdef", 4), "abc…"; got != want {
		t.Fatalf("Truncate(abcdef, 4) = %q, want %q", got, want)
	}
}
