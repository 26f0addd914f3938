package controllerclient

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
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lmc/internal/controllerclient/sandboxcontroller"
)

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSCustomCAAndInsecure(t *testing.T) {
	s := sandboxcontroller.New()
	s.AddInstance("inst1", 1)
	ts := httptest.NewTLSServer(s)
	defer ts.Close()
	ctx := context.Background()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", ts.Certificate().Raw)

	c := newClient(t, ts.URL, WithTLS(TLSConfig{CAFile: caFile}))
	if ks, err := c.KeyStats(ctx); err != nil || ks.TotalWorkerCount != 1 {
		t.Fatalf("custom CA: %+v %v", ks, err)
	}

	// Without the CA the certificate is rejected: a transport error.
	plain := newClient(t, ts.URL, WithRetries(0, 0, 0))
	_, err := plain.KeyStats(ctx)
	var te *TransportError
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &te) || !errors.As(err, &uerr) || IsUnavailable(err) {
		t.Fatalf("want unknown authority (not 'unavailable'), got %T %v", err, err)
	}

	insecure := newClient(t, ts.URL, WithTLS(TLSConfig{InsecureSkipVerify: true}))
	if _, err := insecure.Health(ctx, "inst1"); err != nil {
		t.Fatalf("insecure: %v", err)
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

	s := sandboxcontroller.New()
	ts := httptest.NewUnstartedServer(s)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	ts.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	ts.StartTLS()
	defer ts.Close()
	caFile := filepath.Join(dir, "server-ca.pem")
	writePEM(t, caFile, "CERTIFICATE", ts.Certificate().Raw)

	c := newClient(t, ts.URL, WithTLS(TLSConfig{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}))
	if _, err := c.KeyStats(context.Background()); err != nil {
		t.Fatalf("mutual TLS: %v", err)
	}
	noCert := newClient(t, ts.URL, WithTLS(TLSConfig{CAFile: caFile}), WithRetries(0, 0, 0))
	var te *TransportError
	if _, err := noCert.KeyStats(context.Background()); !errors.As(err, &te) {
		t.Fatalf("want a TLS failure without client cert, got %v", err)
	}
}
