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
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, p.Base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("custom CA: error %v, want nil", err)
	}
	// Without the CA the certificate is refused: a configuration error,
	// not "unreachable".
	err := fetch(t, ts.URL, Options{})
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) || Classify(err) != ClassConfig {
		t.Fatalf("want unknown authority classified as config, got %T %v (class %d)", err, err, Classify(err))
	}
	if err := fetch(t, ts.URL, Options{Insecure: true}); err != nil {
		t.Fatalf("insecure: error %v, want nil", err)
	}
	if err := fetch(t, ts.URL, Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil || !strings.Contains(err.Error(), "--cacert") {
		t.Fatalf("a missing CA file: error %v, want one naming --cacert", err)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fetch(t, ts.URL, Options{CAFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without PEM: error %v, want one saying %q", err, "no PEM certificate")
	}
}

func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lmc test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	cliKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cliTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "lmc client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cliDER, err := x509.CreateCertificate(rand.Reader, cliTmpl, caCert, &cliKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("mutual TLS: error %v, want nil", err)
	}
	if err := fetch(t, ts.URL, Options{CAFile: caFile}); err == nil || Classify(err) != ClassConfig {
		t.Fatalf("without a client certificate: error %v (class %d), want a TLS failure of class config (%d)", err, Classify(err), ClassConfig)
	}
}
