package transport

import (
	"net/url"
	"strings"
)

// Redacted is what replaces a secret in anything lmc prints.
const Redacted = "REDACTED"

// IsSensitiveName reports whether a header or query parameter name looks
// like it carries a credential.
func IsSensitiveName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "cookie2", "set-cookie", "code", "sig", "key":
		return true
	}
	for _, frag := range []string{"token", "secret", "password", "passwd", "pass", "pwd", "api-key", "apikey", "api_key",
		"access-key", "access_key", "accesskey", "auth", "session", "credential", "signature", "private", "vault", "jwt", "bearer"} {
		if strings.Contains(n, frag) {
			return true
		}
	}
	return false
}

// RedactHeader returns value, or a redacted form when the header carries a
// credential (keeping an Authorization scheme such as "Bearer").
func RedactHeader(name, value string) string {
	if !IsSensitiveName(name) {
		return value
	}
	return redactValue(name, value)
}

func redactValue(name, value string) string {
	lower := strings.ToLower(name)
	if lower == "authorization" || lower == "proxy-authorization" {
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " [" + Redacted + "]"
		}
	}
	return "[" + Redacted + "]"
}

// RedactURL renders u with its password and credential-like query values
// replaced.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	cp := *u
	if cp.User != nil {
		if _, has := cp.User.Password(); has {
			cp.User = url.UserPassword(cp.User.Username(), Redacted)
		} else if cp.User.Username() != "" {
			// A bare user:token@ is as secret as a password.
			cp.User = url.User(Redacted)
		}
	}
	if cp.RawQuery != "" {
		q := cp.Query()
		changed := false
		for k := range q {
			if IsSensitiveName(k) {
				q[k] = []string{Redacted}
				changed = true
			}
		}
		if changed {
			cp.RawQuery = q.Encode()
		}
	}
	return cp.String()
}

// RedactRaw is RedactURL for a string that may not parse; what cannot be
// parsed is shown only up to the first character that could start a
// secret.
func RedactRaw(raw string) string { return redactRaw(raw) }

func redactRaw(raw string) string {
	s := raw
	if !strings.Contains(s, "://") && strings.ContainsAny(s, "@?") {
		s = "http://" + s
	}
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		out := RedactURL(u)
		if s != raw {
			out = strings.TrimPrefix(out, "http://")
		}
		return out
	}
	// Unparseable: drop the userinfo and everything from the query on.
	out := raw
	if i := strings.IndexByte(out, '?'); i >= 0 {
		out = out[:i] + "?…"
	}
	start := 0
	if i := strings.Index(out, "://"); i >= 0 {
		start = i + 3
	}
	end := len(out)
	if i := strings.IndexByte(out[start:], '/'); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndexByte(out[start:end], '@'); at >= 0 {
		out = out[:start] + Redacted + out[start+at:]
	}
	return out
}
