package sandboxmaster

import (
	"testing"
	"time"
)

// struct_json's doubles as captured in /get_segments_detail (§5.2).
func TestJSONDouble(t *testing.T) {
	for v, want := range map[float64]string{
		0:                  "0E0",
		0.0011444091796875: "0.0011444091796875",
		7.62939453125e-4:   "7.62939453125E-4",
		50:                 "50",
		1e-10:              "1E-10",
	} {
		if b, _ := jsonDouble(v).MarshalJSON(); string(b) != want {
			t.Errorf("%v: %s, want %s", v, b, want)
		}
	}
	if sizeHuman(1<<30) != "1 GiB" || sizeHuman(1536) != "1.50 KiB" || sizeHuman(10) != "10 B" {
		t.Error("size_human")
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1:12345": "10.0.0.1", "[fe80::1]:80": "fe80::1", "node": "node", "h:1:2": "h:1"} {
		if got := hostOf(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

// Passes run at zero + k*every, strictly after both the last pass and the
// deadline.
func TestNextPass(t *testing.T) {
	zero := time.Unix(0, 0)
	for _, c := range []struct{ last, after, want int }{{0, 0, 30}, {0, 300, 330}, {30, 10, 60}, {0, 299, 300}, {60, 330, 360}} {
		got := nextPass(zero, zero.Add(time.Duration(c.last)*time.Second), zero.Add(time.Duration(c.after)*time.Second), 30*time.Second)
		if got.Sub(zero) != time.Duration(c.want)*time.Second {
			t.Errorf("%+v: %v", c, got.Sub(zero))
		}
	}
}
