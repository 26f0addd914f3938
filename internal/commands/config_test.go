package commands

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestContextsAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "prod", "--model", "m-prod", "--hash-seed", "42", "--chunk-size", "128", "--master", "10.0.0.1:50051", "-H", "Authorization: Bearer s3cret")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	path := filepath.Join(dir, ".config", "lmc", "config.yaml")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", err, st)
	}
	runLMC(t, runOpts{env: env}, "config", "set-context", "dev", "--model", "m-dev", "--hash-seed", "0")
	// a new context does not silently become current
	r = runLMC(t, runOpts{env: env}, "config", "get-contexts", "-o", "json")
	if strings.Contains(r.stdout, `"current": true`) {
		t.Fatalf("set-context made a context current: %s", r.stdout)
	}
	if r := runLMC(t, runOpts{env: env}, "config", "use-context", "prod"); r.code != 0 {
		t.Fatalf("use-context: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{env: env}, "config", "get-contexts", "-o", "json")
	if !strings.Contains(r.stdout, `"name": "prod",`+"\n      \"current\": true") || strings.Contains(r.stdout, "s3cret") {
		t.Fatalf("get-contexts: %s", r.stdout)
	}
	params := func(o runOpts, args ...string) map[string]any {
		r := runLMC(t, o, append([]string{"keys", "--tokens", seqTokens(300), "-o", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
		var v struct{ Params map[string]any }
		json.Unmarshal([]byte(r.stdout), &v)
		return v.Params
	}
	// context applies
	p := params(runOpts{env: env})
	if p["model"] != "m-prod" || p["chunk_size"] != 128.0 || !strings.Contains(p["none_hash_source"].(string), `H("42"), seed from context prod`) {
		t.Fatalf("context: %v", p)
	}
	// --context and LMC_CONTEXT select another
	if p := params(runOpts{env: env}, "--context", "dev"); p["model"] != "m-dev" || p["chunk_size"] != 256.0 {
		t.Fatalf("--context: %v", p)
	}
	env2 := map[string]string{"HOME": dir, "LMC_CONTEXT": "dev"}
	if p := params(runOpts{env: env2}); p["model"] != "m-dev" {
		t.Fatalf("LMC_CONTEXT: %v", p)
	}
	// env beats context, flag beats env
	env3 := map[string]string{"HOME": dir, "LMC_CHUNK_SIZE": "64"}
	if p := params(runOpts{env: env3}); p["chunk_size"] != 64.0 || p["model"] != "m-prod" {
		t.Fatalf("env over context: %v", p)
	}
	if p := params(runOpts{env: env3}, "--chunk-size", "32"); p["chunk_size"] != 32.0 {
		t.Fatalf("flag over env: %v", p)
	}
	// context beats the LMCache config
	cfg := writeFile(t, "lmcache.yaml", "chunk_size: 512\npre_caching_hash_algorithm: sha256\n")
	env4 := map[string]string{"HOME": dir, "LMCACHE_CONFIG_FILE": cfg}
	if p := params(runOpts{env: env4}); p["chunk_size"] != 128.0 || p["hash_algorithm"] != "sha256" {
		t.Fatalf("context over LMCache config: %v", p)
	}
	// view --resolved names every source
	r = runLMC(t, runOpts{env: env3}, "config", "view", "--resolved", "-o", "json")
	var rv struct {
		Settings []resolvedSetting `json:"settings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rv); err != nil {
		t.Fatal(err, r.stdout, r.stderr)
	}
	src := map[string]string{}
	val := map[string]string{}
	for _, s := range rv.Settings {
		src[s.Setting], val[s.Setting] = s.Source, s.Value
	}
	if src["chunk-size"] != "env LMC_CHUNK_SIZE" || src["model"] != "context prod" || src["master"] != "context prod" || val["master"] != "10.0.0.1:50051" || src["dtype"] != "default" {
		t.Fatalf("resolved: %v", src)
	}
	golden(t, "config/view-resolved", strings.ReplaceAll(runLMC(t, runOpts{env: env3}, "config", "view", "--resolved").stdout, dir, "$HOME"))
	// view redacts headers
	r = runLMC(t, runOpts{env: env}, "config", "view")
	if strings.Contains(r.stdout, "s3cret") || !strings.Contains(r.stdout, "Authorization: <redacted>") {
		t.Fatalf("view: %s", r.stdout)
	}
	// use-context, unknown context
	if r := runLMC(t, runOpts{env: env}, "config", "use-context", "dev"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if p := params(runOpts{env: env}); p["model"] != "m-dev" {
		t.Fatalf("use-context: %v", p)
	}
	if r := runLMC(t, runOpts{env: env}, "keys", "--context", "nope", "--tokens", "1"); r.code != 2 || !strings.Contains(r.stderr, `no context "nope"`) {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	// completion of context names
	r = runLMC(t, runOpts{env: env}, "__complete", "keys", "--context", "")
	if !strings.Contains(r.stdout, "dev\nprod\n:4") {
		t.Fatalf("completion: %q", r.stdout)
	}
}

func TestHeadersTLSAndVerboseRedaction(t *testing.T) {
	s := startMaster(t)
	var gotAuth string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		s.AdminHandler().ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	args := []string{"lookup", "--admin", srv.URL, "--model", model, "--hash-seed", "0", "--tokens", seqTokens(256), "-H", "Authorization: Bearer s3cret", "--verbose", "-o", "json"}
	// untrusted certificate: a clear failure, not "unreachable"
	r := runLMC(t, runOpts{}, args...)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("untrusted: %d %s", r.code, r.stderr)
	}
	// --insecure works and warns
	r = runLMC(t, runOpts{}, append(args, "--insecure")...)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: --insecure") || gotAuth != "Bearer s3cret" {
		t.Fatalf("insecure: %d %s (auth %q)", r.code, r.stderr, gotAuth)
	}
	if strings.Contains(r.stderr, "s3cret") || !strings.Contains(r.stderr, "> Authorization:") {
		t.Fatalf("verbose log must show the header redacted: %s", r.stderr)
	}
	// --cacert with the server's certificate
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, ca, srv.Certificate().Raw)
	r = runLMC(t, runOpts{}, append(args, "--cacert", ca)...)
	if r.code != 0 {
		t.Fatalf("cacert: %d %s", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{}, "lookup", "--admin", srv.URL, "--model", model, "--hash-seed", "0", "--tokens", "1", "-H", "bad header"); r.code != 2 {
		t.Fatalf("bad header: %d %s", r.code, r.stderr)
	}
}

func TestJQ(t *testing.T) {
	r := runLMC(t, runOpts{}, "keys", "--model", model, "--hash-seed", "0", "--tokens", seqTokens(600), "--jq", ".chunks[].key")
	want := model + "@1@0@5f05dec65811b7cc@bfloat16\n" + model + "@1@0@-adc333b9eaa0e45@bfloat16\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("%d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{stdin: "[1,2]\n[3,4]\n"}, "keys", "--model", "m", "--none-hash", "0", "--chunk-size", "2", "-o", "jsonl", "--jq", "{n: (.chunks|length)}", "-")
	if r.stdout != "{\"n\":1}\n{\"n\":1}\n" {
		t.Fatalf("%q %s", r.stdout, r.stderr)
	}
	if r := runLMC(t, runOpts{}, "keys", "--model", "m", "--none-hash", "0", "--tokens", "1", "--jq", ".["); r.code != 2 {
		t.Fatalf("bad jq: %d %s", r.code, r.stderr)
	}
	if r := runLMC(t, runOpts{}, "keys", "--model", "m", "--none-hash", "0", "--tokens", "1", "-o", "table", "--jq", "."); r.code != 2 {
		t.Fatalf("jq with table: %d %s", r.code, r.stderr)
	}
}

func TestClientCertificate(t *testing.T) {
	s := startMaster(t)
	dir := t.TempDir()
	certPEM, keyPEM, cert := selfSigned(t, "lmc-client")
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := httptest.NewUnstartedServer(s.AdminHandler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(dir, "ca.pem")
	writePEM(t, ca, srv.Certificate().Raw)
	args := []string{"health", "--admin", srv.URL, "--cacert", ca, "-o", "json"}
	if r := runLMC(t, runOpts{}, args...); r.code == 0 {
		t.Fatalf("a server requiring a client certificate accepted none: %s", r.stdout)
	}
	if r := runLMC(t, runOpts{}, append(args, "--cert", certFile, "--key", keyFile)...); r.code != 0 || !strings.Contains(r.stdout, `"role": "leader"`) {
		t.Fatalf("with client certificate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runLMC(t, runOpts{}, append(args, "--cert", certFile)...); r.code != 2 || !strings.Contains(r.stderr, "--cert and --key go together") {
		t.Fatalf("cert without key: %d %s", r.code, r.stderr)
	}
}

func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), cert
}

// Saving the config: an exclusive 0600 temporary file, never a fixed
// ".tmp" name that a leftover or a planted symlink could subvert; a
// symlinked config (dotfiles) is written through and stays a link.
func TestConfigSaveIsSafe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "lmc.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("contexts: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(dir, ".config", "lmc")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfgDir, "config.yaml")
	if err := os.Symlink(real, path); err != nil {
		t.Skip("no symlinks:", err)
	}
	// A planted .tmp symlink and a leftover world-readable .tmp.
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real+".tmp", []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "prod", "--master", "10.0.0.1:50051", "-H", "Authorization: Bearer s3cret")
	if r.code != 0 {
		t.Fatalf("set-context: exit %d, stderr %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.yaml is no longer a symlink: %v %v", fi, err)
	}
	b, err := os.ReadFile(real)
	if err != nil || !strings.Contains(string(b), "s3cret") {
		t.Fatalf("the link's target was not written: %q %v", b, err)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o600 {
		t.Fatalf("target mode %04o, want 0600", st.Mode().Perm())
	}
	if v, _ := os.ReadFile(victim); string(v) != "keep" {
		t.Fatalf("the planted .tmp link was written through: victim holds %q", v)
	}
	ents, _ := os.ReadDir(filepath.Dir(real))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") && e.Name() != "lmc.yaml.tmp" {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// A config that holds credentials and is writable or readable by others
// gets a warning (like ssh); views redact URL passwords and tokens too.
func TestConfigCredentialsWarningsAndRedaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	r := runLMC(t, runOpts{env: env}, "config", "set-context", "prod", "--controller", "http://ops:pa55w0rd@10.0.0.2:9000/?access_token=t0ken", "--admin", "http://10.0.0.1:9003")
	if r.code != 0 {
		t.Fatalf("set-context: exit %d, stderr %s", r.code, r.stderr)
	}
	path := filepath.Join(dir, ".config", "lmc", "config.yaml")
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "view"}, {"config", "view", "-o", "json"}, {"config", "get-contexts", "-o", "json"}, {"config", "view", "--resolved"}} {
		r := runLMC(t, runOpts{env: env}, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "pa55w0rd") || strings.Contains(r.stdout+r.stderr, "t0ken") {
			t.Errorf("%v shows a credential:\n%s%s", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "holds credentials and is writable by others (mode 0666)") {
			t.Errorf("%v: no permission warning on stderr: %q", args, r.stderr)
		}
	}
}
