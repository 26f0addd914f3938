package rankhit

import (
	"slices"
	"testing"
)

func TestTracker(t *testing.T) {
	// Two ranks of two objects each; a third sharing rank 0's objects.
	l := Layout{Owners: []string{"a", "b", "c"}, KeysPerChunk: 4, Needs: [][]int{{0, 1}, {2, 3}, {0, 1}}}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(&l)
	rows := [][]bool{
		{true, true, true, true},
		{true, true, true, false}, // b stops at chunk 1
		{true, true, true, true},  // b: a hole (recovered)
		{false, true, true, true}, // a and c stop at chunk 3
	}
	var stopped []bool
	for _, r := range rows {
		stopped = append(stopped, tr.Add(r))
	}
	if !slices.Equal(stopped, []bool{false, false, false, true}) {
		t.Errorf("stopped %v", stopped)
	}
	if !slices.Equal(tr.Pages(), []int{3, 1, 3}) || tr.Min() != 1 || tr.Chunks() != 4 {
		t.Errorf("pages %v min %d", tr.Pages(), tr.Min())
	}
	if !slices.Equal(tr.Recovered(), []int{0, 2, 0}) { // b complete again in chunks 2 and 3
		t.Errorf("recovered %v", tr.Recovered())
	}
	bad := Layout{Owners: []string{"a"}, KeysPerChunk: 1, Needs: [][]int{{1}}}
	if bad.Validate() == nil {
		t.Error("out-of-range need accepted")
	}
	if NewTracker(&Layout{}).Min() != 0 {
		t.Error("empty layout")
	}
}
