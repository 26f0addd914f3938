package commands

import (
	"encoding/binary"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"lmc/internal/mooncake"
)

// FuzzStoreSummary feeds a summary keys (one per line) and replicas made
// from the bytes of each line, as a hostile admin API could send them: the
// counts must add up whatever the keys look like, and the groups stay
// bounded.
func FuzzStoreSummary(f *testing.F) {
	for _, s := range []string{
		"meta-llama/Llama-3.1-8B-Instruct@1@0@5f05dec65811b7cc@bfloat16\nm@2@1@-adc333b9eaa0e45@bfloat16\nother",
		"vllm@m@2@1@abc@bfloat16\nm@01000100@" + strings.Repeat("a", 64) + "@salt",
		"m@4096@4095@1@bfloat16\nm@999999999999999999999@0@1@bfloat16\nm@1@99999@1@bfloat16",
		"x@1@0@" + strings.Repeat("1", 20) + "@float16@a%3Db\n\n,,\n",
		// SGLang (MHA with and without PP, MLA, hybrid, warm-up) and vLLM (V3, vllm-ascend) keys
		"Qwen-Qwen3-8B_" + strings.Repeat("ab", 32) + "_0_k\nQwen-Qwen3-8B_" + strings.Repeat("ab", 32) + "_0_v\n" + strings.Repeat("cd", 32) + "_1_0_k\n" +
			strings.Repeat("ef", 32) + "_k\n" + strings.Repeat("ef", 32) + "__k\nm_" + strings.Repeat("12", 32) + "_0_mamba\nsglang_mooncake_store_warmup_key" + strings.Repeat("0", 32),
		"Llama-3.1-8B-Instruct@tp_rank:0@pcp0@dcp0@pp_rank:0@" + strings.Repeat("a1", 32) + "\npfx@Llama@tp_rank:999999@pcp0@dcp0@pp_rank:0@" + strings.Repeat("b2", 16),
	} {
		f.Add([]byte(s))
	}
	segs := []mooncake.SegmentInfo{
		{Name: "a", TEEndpoint: "10.0.0.1:1", Base: 1 << 40, Size: 1 << 30, CapacityBytes: 1 << 30, Status: mooncake.SegmentOK},
		{Name: "b", TEEndpoint: "10.0.0.1:1", Base: 2 << 40, Size: 1 << 30, CapacityBytes: 1 << 30, Status: mooncake.SegmentDraining},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sv, _ := buildSegmentsView(segs)
		s := newSummarizer(segs, sv)
		readable, mem, other := int64(0), int64(0), int64(0)
		for i, line := range strings.Split(string(data), "\n") {
			q := mooncake.KeyQuery{Key: line, OK: i%7 != 3}
			if !q.OK {
				q.Error = "OBJECT_NOT_FOUND"
				if i%2 == 0 {
					q.Error = "REPLICA_IS_NOT_READY"
				}
			} else {
				readable++
				b := []byte(line)
				for len(b) >= 9 {
					addr := binary.LittleEndian.Uint64(b)
					switch b[8] % 4 {
					case 0:
						q.Values = append(q.Values, mooncake.BufferDescriptor{Size: uint64(b[8]), BufferAddress: addr, TransportEndpoint: "10.0.0.1:1"})
						mem++
					case 1:
						q.NoFValues = append(q.NoFValues, mooncake.BufferDescriptor{Size: 1, BufferAddress: (1 << 40) + addr%(1<<31), TransportEndpoint: "10.0.0.1:1"})
						mem++
					case 2:
						q.DiskValues = append(q.DiskValues, mooncake.DiskDescriptor{FilePath: line, ObjectSize: addr})
						other++
					default:
						q.LocalDiskValues = append(q.LocalDiskValues, mooncake.LocalDiskDescriptor{ObjectSize: 3})
						other++
					}
					b = b[9:]
				}
			}
			s.add(q)
		}
		v := s.finish()
		if v.Keys != readable+v.Vanished+v.Unreadable {
			t.Fatalf("keys %d != readable %d + vanished %d + unreadable %d", v.Keys, readable, v.Vanished, v.Unreadable)
		}
		sum := v.OtherGroupKeys + v.Unrecognised.Keys
		for _, g := range v.Schemas {
			sum += g.Keys
			var w int64
			for _, c := range g.Workers {
				if c.WorkerID < 0 || c.WorkerID > 4095 {
					t.Fatalf("worker id %d", c.WorkerID)
				}
				w += c.Keys
			}
			if g.Engine != "lmcache" {
				// SGLang and vLLM: counted per rank, within the bound
				for _, r := range g.Ranks {
					w += r.Keys
				}
				if w != g.Keys || len(g.Workers) != 0 || g.WorldSize != 0 || len(g.Ranks) > maxGroupRanks+1 || g.Layout == "" {
					t.Fatalf("engine group %+v", g)
				}
				continue
			}
			if w != g.Keys || g.WorldSize < 1 || g.WorldSize > 4096 || len(g.Ranks) != 0 {
				t.Fatalf("group %+v", g)
			}
		}
		if sum != readable || len(v.Schemas) > maxKeyGroups || len(v.Unrecognised.Examples) > maxOtherExamples {
			t.Fatalf("groups count %d of %d readable keys", sum, readable)
		}
		var tm, to int64
		for _, tv := range v.Tiers {
			if tv.Tier == tierMemory || tv.Tier == tierNoF {
				tm += tv.Replicas
			} else {
				to += tv.Replicas
			}
		}
		located := v.Unlocated.Replicas
		for _, sg := range v.Segments {
			located += *sg.Replicas
		}
		if tm != mem || to != other || located != mem {
			t.Fatalf("replicas: memory %d/%d, other %d/%d, located %d", tm, mem, to, other, located)
		}
	})
}

// FuzzParseIndices: the sandbox's index lists accept exactly canonical
// indices 0..2³¹ and read back what they print.
func FuzzParseIndices(f *testing.F) {
	for _, s := range []string{"", "1,3", " 2 , 0", "01", "-1", "1,,2", "2147483648", "2147483649", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseIndices(s)
		if err != nil {
			return
		}
		var ns []int
		for n := range m {
			if n < 0 || n > maxIndex {
				t.Fatalf("%q gave %d", s, n)
			}
			ns = append(ns, n)
		}
		sort.Ints(ns)
		parts := make([]string, len(ns))
		for i, n := range ns {
			parts[i] = strconv.Itoa(n)
		}
		back, err := parseIndices(strings.Join(parts, ","))
		if err != nil || len(back) != len(m) {
			t.Fatalf("%q: round trip %v %v", s, back, err)
		}
		for n := range m {
			if !back[n] {
				t.Fatalf("%q: %d lost", s, n)
			}
		}
		if !slices.IsSorted(ns) {
			t.Fatal("unsorted")
		}
	})
}
