package iostreams

import "testing"

func TestColorPolicy(t *testing.T) {
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
	s, _, _, _ := Test()
	st := s.Styles()
	if st.Hit.Render("HIT") != "HIT" || st.HitBar(1, 4, 8) != "##......" {
		t.Fatalf("%q %q", st.Hit.Render("HIT"), st.HitBar(1, 4, 8))
	}
	s.SetColorEnabled(true)
	if st := s.Styles(); st.Hit.Render("HIT") == "HIT" {
		t.Fatal("no colour when enabled")
	}
}

func TestElide(t *testing.T) {
	if got := ElideMiddle("abcdefghij", 7); got != "abc…hij" {
		t.Fatal(got)
	}
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Fatal(got)
	}
}
