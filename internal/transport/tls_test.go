package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

// fetch GETs the peer's base URL and returns the error.
func fetch(t *testing.T, url string, o Options) error {
	t.Helper()
	tr, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.Peer(url)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, p.Base+"/", nil)
	resp, err := p.HTTP.Do(req)
	if err == nil {
		_, err = ReadBody(resp)
	}
	return err
}

func TestTLSCustomCAAndInsecure(t *testing.T) {
	t.Parallel()
	ts := httptest.NewTLSServer(okHandler)
	defer ts.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", ts.Certificate().Raw)

	if err := fetch(t, ts.URL, Options{CAFile: caFile}); err != nil {
		t.Fatalf("custom CA: %v", err)
	}
	// Without the CA the certificate is refused: a configuration error,
	// not "unreachable".
	err := fetch(t, ts.URL, Options{})
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) || Classify(err) != ClassConfig {
		t.Fatalf("want unknown authority classified as config, got %T %v (class %d)", err, err, Classify(err))
	}
	if err := fetch(t, ts.URL, Options{Insecure: true}); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	if err := fetch(t, ts.URL, Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil || !strings.Contains(err.Error(), "--cacert") {
		t.Fatalf("a missing CA file: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if err := fetch(t, ts.URL, Options{CAFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without PEM: %v", err)
	}
}

func TestTLSClientCertificate(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lmc test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	cliKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cliTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "lmc client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cliDER, err := x509.CreateCertificate(rand.Reader, cliTmpl, caCert, &cliKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(cliKey)
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	writePEM(t, certFile, "CERTIFICATE", cliDER)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)

	ts := httptest.NewUnstartedServer(okHandler)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	ts.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	ts.StartTLS()
	defer ts.Close()
	caFile := filepath.Join(dir, "server-ca.pem")
	writePEM(t, caFile, "CERTIFICATE", ts.Certificate().Raw)

	if err := fetch(t, ts.URL, Options{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}); err != nil {
		t.Fatalf("mutual TLS: %v", err)
	}
	if err := fetch(t, ts.URL, Options{CAFile: caFile}); err == nil || Classify(err) != ClassConfig {
		t.Fatalf("want a TLS failure (config) without client cert, got %v", err)
	}
}
