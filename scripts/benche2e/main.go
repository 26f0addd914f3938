// Command benche2e times whole lmc processes against a sandbox master and
// controller (lmc sandbox) and prints Markdown tables: the start-up of lmc
// beside a Go hello world built the same way, then median and minimum wall
// time and peak RSS per case, batch throughput, and the binary size, each
// with its target (issue 16).
//
// The cases of a group run round-robin (one run of each in turn), so that
// the load of a shared machine falls on all of them alike; the first round
// warms the page cache and is not counted.
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

// spec is one case: a command line and the exit codes that count as
// success (lookup exits 4 when a prompt misses).
type spec struct {
	name   string
	target string
	bin    string
	args   []string
}

func main() {
	lmc := flag.String("lmc", "bin/lmc", "lmc binary to measure")
	runs := flag.Int("runs", 15, "runs per case (fewer for the large ones)")
	startRuns := flag.Int("startup-runs", 101, "runs per start-up case")
	quick := flag.Bool("quick", false, "skip the 1M-token, 1,000-prompt and engine cases")
	enginesOnly := flag.Bool("engines", false, "only the SGLang case (32k tokens at page size 1 and TP 8)")
	flag.Parse()
	bin, err := filepath.Abs(*lmc)
	check(err)
	dir, err := os.MkdirTemp("", "lmc-bench-")
	check(err)
	defer os.RemoveAll(dir)
	load0, steal0 := loadAvg(), cpuTicks()

	// The Go hello world and the library floor, built as make build builds
	// lmc (CGO_ENABLED=0, -trimpath, -s -w).
	hello := filepath.Join(dir, "hello")
	floor := filepath.Join(dir, "floor")
	goBuild(hello, "./scripts/benche2e/hello")
	goBuild(floor, "./scripts/benche2e/floor")

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
		report(bin, load0, steal0, rs, nil, *runs, 0)
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

	// Start-up: nothing but process start, package initialisation and the
	// command tree.
	start := measureGroup(*startRuns, []spec{
		{name: "Go hello world (same build flags)", bin: hello},
		{name: "Go hello world + lmc's libraries (floor)", bin: floor},
		{name: "lmc --version", target: "≤ 3 ms, ≤ hello + 1 ms", bin: bin, args: []string{"--version"}},
		{name: "lmc help", target: "≤ 3 ms, ≤ hello + 1 ms", bin: bin, args: []string{"help"}},
	})
	for i := 2; i < len(start); i++ {
		start[i].extra = fmt.Sprintf("hello + %s, floor + %s", ms(start[i].median-start[0].median), ms(start[i].median-start[1].median))
	}

	key := []string{"--model", "bench/model", "--hash-seed", "0"}
	with := func(base []string, file string, extra ...string) []string {
		return append(append(append(append([]string{}, base...), extra...), key...), file)
	}
	for _, n := range sizes {
		r := *runs
		if n >= 1<<20 {
			r = max(3, r/3)
		}
		h := human(n)
		var keysT, plainT, jsonT, adminT, rssT string
		switch n {
		case 131072:
			keysT, plainT, jsonT, adminT = "≤ 6 ms", "≤ 8 ms", "≤ 8 ms, ≤ plain + 1 ms", "≤ 15 ms"
		case 1 << 20:
			rssT = "peak RSS ≤ 32 MB"
			keysT, plainT, jsonT, adminT = rssT, rssT, rssT, rssT
		}
		group := []spec{
			{name: "keys " + h + " tokens", target: keysT, bin: bin, args: with([]string{"keys", "-o", "plain"}, files[n])},
			{name: "lookup --master " + h + " tokens, -o plain", target: plainT, bin: bin, args: with([]string{"lookup", "--master", addrs.Master, "-o", "plain"}, files[n])},
			{name: "lookup --master " + h + " tokens", target: jsonT, bin: bin, args: with([]string{"lookup", "--master", addrs.Master, "-o", "json"}, files[n])},
			{name: "lookup --admin " + h + " tokens", target: adminT, bin: bin, args: with([]string{"lookup", "--admin", addrs.Admin, "-o", "json"}, files[n])},
		}
		if n == 131072 {
			group = append(group, spec{name: "keys " + h + " tokens, sha256_cbor", bin: bin, args: with([]string{"keys", "-o", "plain", "--hash", "sha256_cbor"}, files[n])})
		}
		if n <= 131072 {
			group = append(group, spec{name: "lookup --controller " + h + " tokens", bin: bin, args: []string{"lookup", "--controller", addrs.Controller, "-o", "json", files[n]}})
		}
		g := measureGroup(r, group)
		g[2].extra = "json − plain " + ms(g[2].median-g[1].median)
		rs = append(rs, g...)
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
		g := measureGroup(5, []spec{
			{name: "batch: 1,000 prompts x 8k tokens, lookup --master, jsonl", target: "≥ 5,000 prompts/s", bin: bin, args: with([]string{"lookup", "--master", addrs.Master, "-o", "jsonl"}, batch)},
			{name: "batch: the same, --concurrency 32", target: "≥ 5,000 prompts/s", bin: bin, args: with([]string{"lookup", "--master", addrs.Master, "-o", "jsonl", "--concurrency", "32"}, batch)},
			{name: "batch: 1,000 prompts x 8k tokens, keys, jsonl", bin: bin, args: with([]string{"keys", "-o", "jsonl"}, batch)},
		})
		for i := range g {
			g[i].extra = fmt.Sprintf("%.0f prompts/s (best run %.0f)", 1000/g[i].median.Seconds(), 1000/g[i].min.Seconds())
		}
		rs = append(rs, g...)
	}
	report(bin, load0, steal0, rs, start, *runs, *startRuns)
}

func report(bin, load0 string, steal0 [2]uint64, rs, start []result, runs, startRuns int) {
	st, err := os.Stat(bin)
	check(err)

	steal1 := cpuTicks()
	stolen := "unknown"
	if all := steal1[0] - steal0[0]; all > 0 {
		stolen = fmt.Sprintf("%.1f %%", 100*float64(steal1[1]-steal0[1])/float64(all))
	}
	fmt.Printf("Machine: %s/%s, %d CPUs, %s; %s; load average %s at the start, %s at the end; CPU time stolen by the hypervisor during the run: %s; lmc binary %.1f MB (target ≤ 20 MB)\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), time.Now().UTC().Format("2006-01-02"), load0, loadAvg(), stolen, float64(st.Size())/1e6)
	if len(start) > 0 {
		fmt.Printf("Start-up (%d round-robin runs):\n\n", startRuns)
		table(start)
		fmt.Println()
	}
	fmt.Printf("Commands (%d round-robin runs per size, %d for 1M tokens and the engine case, 5 for the batches):\n\n", runs, max(3, runs/3))
	table(rs)
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
	with := func(args ...string) []string { return append(append(args, eng...), prompt) }
	rs := measureGroup(max(3, runs/3), []spec{
		{name: "keys --engine sglang 32k tokens, page 1, TP 8, --all-ranks (524k keys)", bin: bin, args: with("keys", "-o", "plain", "--all-ranks")},
		{name: "lookup --master --engine sglang 32k tokens, page 1, TP 8 (524k keys)", bin: bin, args: lookup},
		{name: "lookup --master --engine sglang 32k tokens, page 1, TP 8, -o plain", bin: bin, args: with("lookup", "--master", addrs.Master, "-o", "plain")},
	})
	rs = append(rs, measureGroup(1, []spec{
		{name: "lookup --admin --engine sglang 32k tokens, page 1, TP 8 (524k keys)", bin: bin, args: with("lookup", "--admin", addrs.Admin, "-o", "json", "--timeout", "60s")},
	})...)
	for i := range rs {
		rs[i].extra = "524,288 objects"
	}
	return rs
}

func table(rs []result) {
	fmt.Println("| case | median | min | peak RSS | note | target |")
	fmt.Println("| --- | ---: | ---: | ---: | --- | --- |")
	for _, r := range rs {
		fmt.Printf("| %s | %s | %s | %.1f MiB | %s | %s |\n", r.name, ms(r.median), ms(r.min), r.rssMB, r.extra, r.target)
	}
}

// measureGroup runs the cases round-robin, runs+1 rounds (the first warms
// the page cache and is dropped).
func measureGroup(runs int, cases []spec) []result {
	ds := make([][]time.Duration, len(cases))
	rss := make([]int64, len(cases))
	for i := 0; i < runs+1; i++ {
		for j, c := range cases {
			d, maxrss := run(c)
			if i == 0 {
				continue
			}
			ds[j] = append(ds[j], d)
			rss[j] = max(rss[j], maxrss)
		}
	}
	out := make([]result, len(cases))
	for j, c := range cases {
		sort.Slice(ds[j], func(a, b int) bool { return ds[j][a] < ds[j][b] })
		if m, ok := peakRSS(c); ok {
			rss[j] = m
		}
		out[j] = result{name: c.name, median: ds[j][len(ds[j])/2], min: ds[j][0], rssMB: float64(rss[j]) / 1024, target: c.target}
	}
	return out
}

// peakRSS runs c once more under /usr/bin/time for its peak RSS in KiB.
// The rusage of a child this process starts is no good for it: Linux
// carries the parent's high-water mark across the exec of a child that
// shared its memory (Go starts children with CLONE_VM), so every case
// would read at least the benchmark's own RSS. time is a small C program.
func peakRSS(c spec) (int64, bool) {
	f, err := os.CreateTemp("", "lmc-rss-")
	if err != nil {
		return 0, false
	}
	defer os.Remove(f.Name())
	f.Close()
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f.Name(), c.bin}, c.args...)...)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 && ee.ExitCode() != 4 {
			return 0, false
		}
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return 0, false
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	return n, err == nil
}

func run(c spec) (time.Duration, int64) {
	cmd := exec.Command(c.bin, c.args...)
	cmd.Stdout = nil
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 && ee.ExitCode() != 4 {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", c.name, err, stderr.String())
			os.Exit(1)
		}
	}
	var maxrss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxrss = ru.Maxrss
	}
	return d, maxrss
}

// goBuild builds pkg as make build builds lmc.
func goBuild(out, pkg string) {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	check(cmd.Run())
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

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuTicks is the machine's CPU time so far (all states) and the part of it
// the hypervisor stole, in clock ticks (/proc/stat): on a shared VM, steal
// is what makes medians wander.
func cpuTicks() [2]uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]uint64{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t [2]uint64
	for i := 1; i < len(f); i++ {
		n, _ := strconv.ParseUint(f[i], 10, 64)
		t[0] += n
		if i == 8 {
			t[1] = n
		}
	}
	return t
}

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
