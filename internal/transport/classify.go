package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Class is what a failed request means for the operator (and for lmc's exit
// code).
type Class int

const (
	// ClassOther: the peer answered, wrongly (bad body, too large, a
	// redirect loop), or something else went wrong: exit 1.
	ClassOther Class = iota
	// ClassCanceled: the operator interrupted (Ctrl-C).
	ClassCanceled
	// ClassUnreachable: nothing answered in time — refused, reset, DNS,
	// unroutable, dial or read timeout, closed before any answer. Safe to
	// retry: exit 3.
	ClassUnreachable
	// ClassConfig: the peer answered but lmc's settings cannot work with
	// it — https:// against plain HTTP (or the reverse), a certificate that
	// is refused, a client certificate that is required. Retrying does not
	// help: exit 2.
	ClassConfig
)

// Classify sorts an error from an HTTP request (or a dial) into a Class.
func Classify(err error) Class {
	if err == nil {
		return ClassOther
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if IsConfigError(err) {
		return ClassConfig
	}
	var bt *BodyTooLargeError
	var re *RedirectError
	if errors.As(err, &bt) || errors.As(err, &re) {
		return ClassOther
	}
	if IsUnreachable(err) {
		return ClassUnreachable
	}
	return ClassOther
}

// IsConfigError reports a TLS or scheme mismatch: the peer is there, but
// the URL or the TLS flags are wrong for it.
func IsConfigError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &rh) || errors.As(err, &ae) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "server gave HTTP response to HTTPS client") ||
		strings.Contains(msg, "first record does not look like a TLS handshake") ||
		strings.Contains(msg, "tls: ")
}

// IsUnreachable reports a failure to reach the peer in time: refused,
// reset, broken pipe, unroutable, DNS, dial or read timeouts, and a
// connection closed before any answer.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	// A connection net/http had kept for reuse, closed by the peer before
	// it answered (errServerClosedIdle, not exported): nothing answered.
	if strings.Contains(err.Error(), "server closed idle connection") {
		return true
	}
	// net/http reports a connection closed before the status line as a
	// bare EOF: nothing answered. One closed in the middle of the answer
	// (an unexpected EOF) is an answer cut short: the peer answered
	// wrongly, not unreachable.
	return errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}
