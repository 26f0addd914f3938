// Command benchstore measures 'lmc store' on a big store: it starts a
// sandbox master in this process, fills it with -keys keys straight into its
// metadata (sandboxmaster.PopulateBulk: LMCache keys of a few models, world
// size 2, and a share of other engines' keys, over -nodes segments), then
// runs whole lmc processes under /usr/bin/time -v and prints a Markdown
// table of wall time and peak RSS (docs/performance.md).
//
// Usage: go run ./scripts/benchstore -lmc bin/lmc [-keys 10000000] [-nodes 4]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"lmc/internal/mooncake/sandboxmaster"
)

var models = []string{"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-V3"}

// key is the i-th key of the bench store: 99 % LMCache keys (current
// format, world size 2, a builtin-hash-like signed hex int), 1 % keys of
// the other engines' own formats, which lmc store recognises too: SGLang
// HiCache's K and V objects of two TP ranks, and vLLM's
// MooncakeStoreConnector blocks of two TP ranks.
func key(i int) string {
	x := uint64(i)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	if i%100 == 99 {
		h := fmt.Sprintf("%016x%016x%016x%016x", x, x^0x5555555555555555, x^0xaaaaaaaaaaaaaaaa, ^x)
		if (i/100)%2 == 0 {
			return fmt.Sprintf("Qwen-Qwen3-8B_%s_%d_%c", h, (i/200)%2, "kv"[(i/400)%2])
		}
		return fmt.Sprintf("Llama-3.1-8B-Instruct@tp_rank:%d@pcp0@dcp0@pp_rank:0@group:0@%s", (i/200)%2, h)
	}
	h := int64(x)
	hs := strconv.FormatInt(h, 16)
	return fmt.Sprintf("%s@2@%d@%s@bfloat16", models[i%len(models)], (i/3)%2, hs)
}

type run struct {
	name    string
	args    []string
	wall    time.Duration
	rssKB   int64
	check   string
	outSize int
	cpu     float64
}

func main() {
	lmc := flag.String("lmc", "bin/lmc", "lmc binary to measure")
	n := flag.Int("keys", 10_000_000, "keys to store")
	nodes := flag.Int("nodes", 4, "segments (one per made-up node)")
	ls := flag.Bool("ls", true, "also time 'store ls' (plain and jsonl)")
	flag.Parse()
	bin, err := filepath.Abs(*lmc)
	check(err)

	s, err := sandboxmaster.Start("127.0.0.1:0", sandboxmaster.WithClientTTL(24*time.Hour))
	check(err)
	defer s.Close()
	per := uint64(*n / *nodes + 1)
	var ns []sandboxmaster.Node
	for i := 0; i < *nodes; i++ {
		ns = append(ns, sandboxmaster.Node{Name: fmt.Sprintf("bench-node-%d", i), Endpoint: fmt.Sprintf("10.1.0.%d:17777", 10+i), Size: per * sandboxmaster.PopulateObjectSize})
	}
	start := time.Now()
	stored, err := s.PopulateBulk(context.Background(), *n, key, ns...)
	check(err)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "stored %d keys in %s (sandbox heap %d MB)\n", stored, time.Since(start).Round(time.Millisecond), ms.HeapAlloc>>20)

	// The sandbox, like a master, builds the whole listing before its
	// first byte: --timeout must cover that wait.
	wait := []string{"--timeout", "2m"}
	runs := []run{{name: "store summary", args: append([]string{"store", "summary", "--admin", s.AdminURL(), "--master", s.Addr(), "-o", "json"}, wait...)}}
	if *ls {
		runs = append(runs,
			run{name: "store ls (plain: listing only)", args: append([]string{"store", "ls", "--admin", s.AdminURL(), "-o", "plain"}, wait...)},
			run{name: "store ls -o jsonl (with replicas)", args: append([]string{"store", "ls", "--admin", s.AdminURL(), "-o", "jsonl"}, wait...)})
	}
	for i := range runs {
		r := &runs[i]
		cmd := exec.Command("/usr/bin/time", append([]string{"-v", bin}, r.args...)...)
		var stdout countWriter
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		t0 := time.Now()
		err := cmd.Run()
		r.wall = time.Since(t0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s\n", r.name, err, tail(stderr.String()))
			os.Exit(1)
		}
		r.rssKB = field(stderr.String(), `Maximum resident set size \(kbytes\): (\d+)`)
		r.cpu = fieldF(stderr.String(), `User time \(seconds\): ([0-9.]+)`) + fieldF(stderr.String(), `System time \(seconds\): ([0-9.]+)`)
		r.outSize = stdout.n
		switch {
		case r.args[1] == "summary":
			var v struct {
				Keys    int64 `json:"keys"`
				Schemas []struct {
					Keys int64 `json:"keys"`
				} `json:"schemas"`
				Unrecognised struct{ Keys int64 } `json:"unrecognised"`
			}
			check(json.Unmarshal(stdout.head.Bytes(), &v))
			if v.Keys != int64(stored) {
				fmt.Fprintf(os.Stderr, "summary counted %d keys, the store holds %d\n", v.Keys, stored)
				os.Exit(1)
			}
			r.check = fmt.Sprintf("%d keys, %d groups, %d unrecognised", v.Keys, len(v.Schemas), v.Unrecognised.Keys)
		default:
			if stdout.lines != stored {
				fmt.Fprintf(os.Stderr, "%s printed %d lines, the store holds %d keys\n", r.name, stdout.lines, stored)
				os.Exit(1)
			}
			r.check = fmt.Sprintf("%d lines, %d MB", stdout.lines, stdout.n>>20)
		}
		fmt.Fprintf(os.Stderr, "%s: %s (lmc CPU %.1f s), peak RSS %.1f MB (%s)\n", r.name, r.wall.Round(time.Millisecond), r.cpu, float64(r.rssKB)/1024, r.check)
	}
	fmt.Printf("| case (%s keys, %d segments) | wall | lmc CPU | peak RSS | output |\n| --- | ---: | ---: | ---: | --- |\n", group(stored), *nodes)
	for _, r := range runs {
		fmt.Printf("| lmc %s | %.1f s | %.1f s | %.1f MB | %s |\n", r.name, r.wall.Seconds(), r.cpu, float64(r.rssKB)/1024, r.check)
	}
}

// countWriter counts bytes and lines and keeps the first 64 MB (the
// summary's JSON).
type countWriter struct {
	n, lines int
	head     bytes.Buffer
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.lines += bytes.Count(p, []byte("\n"))
	if w.head.Len() < 64<<20 {
		w.head.Write(p)
	}
	return len(p), nil
}

func field(s, re string) int64 {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	return v
}

func fieldF(s, re string) float64 {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
