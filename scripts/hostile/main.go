// Command hostile runs a built lmc against hostile peers and files on
// loopback and measures every case with /usr/bin/time -v: peak RSS and wall
// time. It prints a Markdown table and exits 1 when a case breaks its
// budget (peak RSS ≤ 200 MB; wall ≤ --timeout + 1 s, or the documented
// retry budget for controller reads) or exits 0 where it must fail.
//
// Usage: go run ./scripts/hostile -lmc bin/lmc   (scripts/hostile.sh builds it)
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const timeout = 2 * time.Second

type tcase struct {
	name   string
	args   []string
	env    []string
	budget time.Duration // wall budget
	want   int           // expected exit code (-1: any non-zero)
}

func main() {
	lmc := flag.String("lmc", "bin/lmc", "lmc binary")
	flag.Parse()
	bin, err := filepath.Abs(*lmc)
	check(err)
	dir, err := os.MkdirTemp("", "lmc-hostile-")
	check(err)
	defer os.RemoveAll(dir)

	prompt := filepath.Join(dir, "prompt.json")
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; i < 2048; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(strconv.Itoa(i))
	}
	sb.WriteString("]")
	check(os.WriteFile(prompt, []byte(sb.String()), 0o600))
	zero := filepath.Join(dir, "zero")
	check(os.Symlink("/dev/zero", zero))

	httpAddr := serveHTTP()
	rpcFlood := serveTCP(func(c net.Conn) { // announces a 1 GiB reply, then streams it
		drainHeader(c)
		h := make([]byte, 16)
		h[0] = 0x15
		binary.LittleEndian.PutUint32(h[8:], 1<<30)
		c.Write(h)
		junk := make([]byte, 1<<16)
		for {
			if _, err := c.Write(junk); err != nil {
				return
			}
		}
	})
	rpcStall := serveTCP(func(c net.Conn) { drainHeader(c); time.Sleep(time.Hour) })
	rpcHTTP := serveTCP(func(c net.Conn) { // an HTTP server where the RPC port should be
		drainHeader(c)
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})

	key := []string{"--model", "m", "--hash-seed", "0", "--timeout", timeout.String()}
	budget := timeout + time.Second
	retry := 3*timeout + 3*time.Second // controller reads: 3 attempts with backoff
	cases := []tcase{
		{"admin: endless /batch_query_keys body", append([]string{"lookup", "--admin", httpAddr + "/flood", prompt}, key...), nil, budget, 1},
		{"admin: gzip bomb", append([]string{"lookup", "--admin", httpAddr + "/gzip", prompt}, key...), nil, budget, 1},
		{"admin: stall", append([]string{"lookup", "--admin", httpAddr + "/stall", prompt}, key...), nil, budget, 3},
		{"admin: redirect loop", append([]string{"lookup", "--admin", httpAddr + "/loop", prompt}, key...), nil, budget, 1},
		{"doctor: /get_all_keys of endless lines", append([]string{"doctor", "--admin", httpAddr + "/flood"}, key...), nil, budget, -1},
		{"controller: 64 MB valid lookup answer", []string{"lookup", "--controller", httpAddr + "/big", "--timeout", timeout.String(), prompt}, nil, budget, 1},
		{"controller: stall", []string{"lookup", "--controller", httpAddr + "/stall", "--timeout", timeout.String(), prompt}, nil, retry, 3},
		{"tokenize: endless answer", append([]string{"keys", "--tokenize-url", httpAddr + "/flood", "--text", "hi"}, key...), nil, budget, 1},
		{"master: 1 GiB reply announced", append([]string{"lookup", "--master", rpcFlood, prompt}, key...), nil, budget, 1},
		{"master: stall", append([]string{"lookup", "--master", rpcStall, prompt}, key...), nil, budget, 3},
		{"master: an HTTP server on the RPC port", append([]string{"lookup", "--master", rpcHTTP, prompt}, key...), nil, budget, -1},
		{"file: token input /dev/zero", append([]string{"keys", zero}, key...), nil, budget, 2},
		{"file: --prompt-file /dev/zero", append([]string{"keys", "--prompt-file", zero, "--tokenizer", zero}, key...), nil, budget, 2},
		{"file: --tokenizer /dev/zero", append([]string{"keys", "--text", "hi", "--tokenizer", zero}, key...), nil, budget, 2},
		{"file: --messages /dev/zero", append([]string{"keys", "--messages", zero, "--tokenize-url", httpAddr}, key...), nil, budget, 2},
		{"file: --lmcache-config /dev/zero", append([]string{"keys", "--lmcache-config", zero, prompt}, key...), nil, budget, 2},
		{"file: LMC_CONFIG=/dev/zero", append([]string{"keys", prompt}, key...), []string{"LMC_CONFIG=" + zero}, budget, 2},
		{"flag: --concurrency 9223372036854775807", append([]string{"lookup", "--master", rpcStall, "--concurrency", "9223372036854775807", prompt}, key...), nil, budget, 2},
		{"flag: --world-size 100000000 --all-ranks", append([]string{"lookup", "--master", rpcStall, "--world-size", "100000000", "--all-ranks", prompt}, key...), nil, budget, 2},
	}
	fmt.Println("| case | exit | wall | peak RSS | verdict |")
	fmt.Println("| --- | ---: | ---: | ---: | --- |")
	failed := 0
	for _, c := range cases {
		code, wall, rss, stderr := run(bin, c)
		verdict := "ok"
		switch {
		case rss > 200<<10:
			verdict = "RSS over 200 MB"
		case wall > c.budget:
			verdict = fmt.Sprintf("wall over %s", c.budget)
		case code == 0:
			verdict = "exit 0: a wrong answer"
		case c.want > 0 && code != c.want:
			verdict = fmt.Sprintf("exit %d, want %d", code, c.want)
		}
		if verdict != "ok" {
			failed++
			verdict += ": " + firstLine(stderr)
		}
		fmt.Printf("| %s | %d | %.2f s | %.1f MB | %s |\n", c.name, code, wall.Seconds(), float64(rss)/1024, verdict)
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "%d case(s) broke their budget\n", failed)
		os.Exit(1)
	}
}

var (
	rssRe  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	wallRe = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)`)
	codeRe = regexp.MustCompile(`Exit status: (\d+)`)
)

// run measures one case under /usr/bin/time -v.
func run(bin string, c tcase) (code int, wall time.Duration, rssKB int, stderr string) {
	args := append([]string{"-v", bin}, c.args...)
	cmd := exec.Command("/usr/bin/time", args...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), c.env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Stdout = io.Discard
	_ = cmd.Run()
	out := errb.String()
	if m := rssRe.FindStringSubmatch(out); m != nil {
		rssKB, _ = strconv.Atoi(m[1])
	}
	if m := wallRe.FindStringSubmatch(out); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		s, _ := strconv.ParseFloat(m[3], 64)
		wall = time.Duration((float64(h*3600+mi*60) + s) * float64(time.Second))
	}
	code = -1
	if m := codeRe.FindStringSubmatch(out); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	stderr = out
	if i := strings.Index(out, "\tCommand being timed"); i >= 0 {
		stderr = out[:i]
	}
	return code, wall, rssKB, stderr
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// serveHTTP serves the hostile HTTP routes on loopback and returns the
// base URL.
func serveHTTP() string {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 1024; i++ { // 1 GiB of zeros, about 1 MiB compressed
		zw.Write(zeros)
	}
	zw.Close()
	mux := http.NewServeMux()
	flood := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		line := []byte(strings.Repeat("k", 1<<16))
		for {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}
	mux.HandleFunc("/flood/", flood)
	mux.HandleFunc("/tokenize", flood)
	mux.HandleFunc("/flood/tokenize", flood)
	mux.HandleFunc("/gzip/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Write(gz.Bytes())
	})
	mux.HandleFunc("/stall/", func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Hour) })
	mux.HandleFunc("/loop/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/b") {
			http.Redirect(w, r, "/loop/a", http.StatusFound)
			return
		}
		http.Redirect(w, r, "/loop/b", http.StatusFound)
	})
	mux.HandleFunc("/big/", func(w http.ResponseWriter, r *http.Request) { // valid JSON, 64 MB
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"event_id":"e","layout_info":{`)
		for i := 0; i < 1_500_000; i++ {
			if i > 0 {
				bw.WriteString(",")
			}
			fmt.Fprintf(bw, `"instance-%08d":["LocalCPUBackend",0]`, i)
		}
		bw.WriteString("}}")
		bw.Flush()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, mux)
	return "http://" + ln.Addr().String()
}

func serveTCP(h func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); h(c) }()
		}
	}()
	return ln.Addr().String()
}

func drainHeader(c net.Conn) {
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	c.Read(buf)
	c.SetReadDeadline(time.Time{})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
