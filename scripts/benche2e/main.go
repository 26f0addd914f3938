// Command benche2e times whole lmc processes against a sandbox master and
// controller (lmc sandbox) and prints a Markdown table: median wall time and
// peak RSS per case, batch throughput, and the binary size.
//
// Usage: go run ./scripts/benche2e -lmc bin/lmc [-runs 15] [-quick]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type result struct {
	name   string
	median time.Duration
	min    time.Duration
	rssMB  float64
	extra  string
	target string
}

func main() {
	lmc := flag.String("lmc", "bin/lmc", "lmc binary to measure")
	runs := flag.Int("runs", 15, "runs per case (fewer for the large ones)")
	quick := flag.Bool("quick", false, "skip the 1M-token, 1,000-prompt and engine cases")
	enginesOnly := flag.Bool("engines", false, "only the SGLang case (32k tokens at page size 1 and TP 8)")
	flag.Parse()
	bin, err := filepath.Abs(*lmc)
	check(err)
	dir, err := os.MkdirTemp("", "lmc-bench-")
	check(err)
	defer os.RemoveAll(dir)

	// One 1M-token sequence; the smaller prompts are its prefixes, so one
	// populate makes them all hit.
	const total = 1 << 20
	seq := make([]uint32, total)
	x := uint32(7)
	for i := range seq {
		x = x*1664525 + 1013904223
		seq[i] = x % 128256
	}
	sizes := []int{8192, 32768, 131072, 1 << 20}
	if *quick {
		sizes = sizes[:3]
	}
	if *enginesOnly {
		sizes = sizes[:2]
	}
	files := map[int]string{}
	for _, n := range sizes {
		files[n] = filepath.Join(dir, fmt.Sprintf("prompt-%d.json", n))
		writeTokens(files[n], seq[:n])
	}
	popFile := files[sizes[len(sizes)-1]]

	var rs []result
	if !*quick {
		rs = append(rs, engineCases(bin, files[32768], *runs)...)
	}
	if *enginesOnly {
		report(bin, rs)
		return
	}

	sb := exec.Command(bin, "sandbox", "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"-o", "json", "--populate", popFile, "--model", "bench/model", "--hash-seed", "0")
	out, err := sb.StdoutPipe()
	check(err)
	sb.Stderr = nil
	check(sb.Start())
	defer func() { _ = sb.Process.Signal(syscall.SIGINT); _ = sb.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	check(err)
	var addrs struct{ Master, Admin, Controller string }
	check(json.Unmarshal([]byte(line), &addrs))

	key := []string{"--model", "bench/model", "--hash-seed", "0"}
	for _, n := range sizes {
		r := *runs
		if n >= 1<<20 {
			r = max(3, r/3)
		}
		target := ""
		if n == 131072 {
			target = "≤ 30 ms (lookup --master)"
		}
		rs = append(rs, measure(fmt.Sprintf("keys %s tokens", human(n)), r, "", bin, append(append([]string{"keys", "-o", "plain"}, key...), files[n])...))
		rs = append(rs, measure(fmt.Sprintf("lookup --master %s tokens", human(n)), r, target, bin, append(append([]string{"lookup", "--master", addrs.Master, "-o", "json"}, key...), files[n])...))
		rs = append(rs, measure(fmt.Sprintf("lookup --admin %s tokens", human(n)), r, "", bin, append(append([]string{"lookup", "--admin", addrs.Admin, "-o", "json"}, key...), files[n])...))
		if n <= 131072 {
			rs = append(rs, measure(fmt.Sprintf("lookup --controller %s tokens", human(n)), r, "", bin, "lookup", "--controller", addrs.Controller, "-o", "json", files[n]))
		}
	}
	if !*quick {
		batch := filepath.Join(dir, "batch.jsonl")
		f, err := os.Create(batch)
		check(err)
		w := bufio.NewWriterSize(f, 1<<20)
		y := uint32(99)
		for p := 0; p < 1000; p++ {
			fmt.Fprintf(w, `{"id":"p%d","tokens":[`, p)
			for i := 0; i < 8192; i++ {
				if i > 0 {
					w.WriteByte(',')
				}
				y = y*1664525 + 1013904223
				w.WriteString(strconv.FormatUint(uint64(y%128256), 10))
			}
			w.WriteString("]}\n")
		}
		check(w.Flush())
		check(f.Close())
		r := measure("batch: 1,000 prompts x 8k tokens, lookup --master, jsonl", 3, "≥ 200 prompts/s", bin, append(append([]string{"lookup", "--master", addrs.Master, "-o", "jsonl"}, key...), batch)...)
		r.extra = fmt.Sprintf("%.0f prompts/s", 1000/r.median.Seconds())
		rs = append(rs, r)
		r = measure("batch: 1,000 prompts x 8k tokens, keys, jsonl", 3, "", bin, append(append([]string{"keys", "-o", "jsonl"}, key...), batch)...)
		r.extra = fmt.Sprintf("%.0f prompts/s", 1000/r.median.Seconds())
		rs = append(rs, r)
	}
	report(bin, rs)
}

func report(bin string, rs []result) {
	st, err := os.Stat(bin)
	check(err)

	fmt.Printf("Machine: %s/%s, %d CPUs, %s; %s; lmc binary %.1f MB (target ≤ 20 MB)\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), time.Now().UTC().Format("2006-01-02"), float64(st.Size())/1e6)
	fmt.Println("| case | median | min | peak RSS | note | target |")
	fmt.Println("| --- | ---: | ---: | ---: | --- | --- |")
	for _, r := range rs {
		fmt.Printf("| %s | %s | %s | %.1f MB | %s | %s |\n", r.name, ms(r.median), ms(r.min), r.rssMB, r.extra, r.target)
	}
}

// engineCases: SGLang's default page size 1 at TP 8 fans a 32k-token
// prompt out to 524,288 objects (K and V of 8 ranks per token). A sandbox
// stores them all the way SGLang writes them; the lookup checks them all
// (a full hit: no early stop).
func engineCases(bin, prompt string, runs int) []result {
	eng := []string{"--engine", "sglang", "--page-size", "1", "--tp-size", "8", "--model", "bench/model"}
	sb := exec.Command(bin, append([]string{"sandbox", "--master-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--controller-addr", "127.0.0.1:0",
		"-o", "json", "--populate", prompt}, eng...)...)
	out, err := sb.StdoutPipe()
	check(err)
	check(sb.Start())
	defer func() { _ = sb.Process.Signal(syscall.SIGINT); _ = sb.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	check(err)
	var addrs struct {
		Master, Admin string
		Stored        int `json:"stored_keys"`
	}
	check(json.Unmarshal([]byte(line), &addrs))
	if addrs.Stored != 524288 {
		check(fmt.Errorf("engine sandbox stored %d objects, want 524,288", addrs.Stored))
	}
	lookup := append(append([]string{"lookup", "--master", addrs.Master, "-o", "json"}, eng...), prompt)
	hit, err := exec.Command(bin, append(lookup, "--jq", ".hit_tokens")...).Output()
	check(err)
	if strings.TrimSpace(string(hit)) != "32768" {
		check(fmt.Errorf("engine lookup: hit %q, want a full hit (32768)", hit))
	}
	r := max(3, runs/3)
	rs := []result{
		measure("keys --engine sglang 32k tokens, page 1, TP 8, --all-ranks (524k keys)", r, "", bin, append(append([]string{"keys", "-o", "plain", "--all-ranks"}, eng...), prompt)...),
		measure("lookup --master --engine sglang 32k tokens, page 1, TP 8 (524k keys)", r, "", bin, lookup...),
		measure("lookup --master --engine sglang 32k tokens, page 1, TP 8, -o plain", r, "", bin, append(append([]string{"lookup", "--master", addrs.Master, "-o", "plain"}, eng...), prompt)...),
		measure("lookup --admin --engine sglang 32k tokens, page 1, TP 8 (524k keys)", 1, "", bin, append(append([]string{"lookup", "--admin", addrs.Admin, "-o", "json", "--timeout", "60s"}, eng...), prompt)...),
	}
	for i := range rs {
		rs[i].extra = "524,288 objects"
	}
	return rs
}

func measure(name string, runs int, target, bin string, args ...string) result {
	var ds []time.Duration
	var rss int64
	for i := 0; i < runs+1; i++ { // the first run warms the page cache
		cmd := exec.Command(bin, args...)
		cmd.Stdout = nil
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 && ee.ExitCode() != 4 {
				fmt.Fprintf(os.Stderr, "%s: %v\n%s", name, err, stderr.String())
				os.Exit(1)
			}
		}
		if i == 0 {
			continue
		}
		ds = append(ds, d)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rss {
			rss = ru.Maxrss
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return result{name: name, median: ds[len(ds)/2], min: ds[0], rssMB: float64(rss) / 1024, target: target}
}

func writeTokens(path string, toks []uint32) {
	f, err := os.Create(path)
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteByte('[')
	for i, t := range toks {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(strconv.FormatUint(uint64(t), 10))
	}
	w.WriteString("]\n")
	check(w.Flush())
	check(f.Close())
}

func human(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dM", n>>20)
	}
	return fmt.Sprintf("%dk", n>>10)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benche2e:", err)
		os.Exit(1)
	}
}
