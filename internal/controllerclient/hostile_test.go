package controllerclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A controller that answers 200 with bodies that cannot be true for the
// request: every one must be an *AnswerError quoting the answer, never a
// hit, a miss or a success.
func TestAnswersThatCannotBeTrusted(t *testing.T) {
	t.Parallel()
	prompt := make([]uint32, 600)
	cases := []struct {
		name, body string
		call       func(*Client) error
		reason     string
	}{
		{"hit beyond the prompt", `{"event_id":"e","layout_info":{"i":["LocalCPUBackend",1000000]}}`,
			func(c *Client) error { _, err := c.Lookup(context.Background(), prompt); return err }, "hits 1000000 tokens of a 600-token prompt"},
		{"negative hit", `{"event_id":"e","layout_info":{"i":["LocalCPUBackend",-1]}}`,
			func(c *Client) error { _, err := c.Lookup(context.Background(), prompt); return err }, "hits -1 tokens"},
		{"hit off the chunk grid", `{"event_id":"e","layout_info":{"i":["LocalCPUBackend",300]}}`,
			func(c *Client) error { _, err := c.Lookup(context.Background(), prompt); return err }, "multiple of the 256-token chunk"},
		{"error under a 200", `{"error":"registry locked","layout_info":null}`,
			func(c *Client) error { _, err := c.Lookup(context.Background(), prompt); return err }, `"registry locked"`},
		{"detail under a 200", `{"detail":"boom","event_id":"e","num_tokens":0}`,
			func(c *Client) error { _, err := c.Clear(context.Background(), "i", ""); return err }, `"boom"`},
		{"success false", `{"success":false}`,
			func(c *Client) error { _, err := c.Pin(context.Background(), "i", "", prompt); return err }, `"success": false`},
		{"negative num_tokens", `{"event_id":"e","num_tokens":-1}`,
			func(c *Client) error { _, err := c.Clear(context.Background(), "i", ""); return err }, "num_tokens -1 is negative"},
		{"pin beyond the tokens", `{"event_id":"e","num_tokens":5000}`,
			func(c *Client) error { _, err := c.Pin(context.Background(), "i", "", prompt); return err }, "num_tokens 5000 exceeds the 600 tokens sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			err := tc.call(newClient(t, ts.URL))
			var ae *AnswerError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.reason) || IsUnavailable(err) {
				t.Fatalf("err = %v, want an AnswerError mentioning %q (not unavailable)", err, tc.reason)
			}
		})
	}
}

// A legitimate answer still passes: the whole prompt (a partial last chunk
// stored with save_unfull_chunk) and a chunk-aligned prefix.
func TestLegitimateLookupAnswers(t *testing.T) {
	t.Parallel()
	for _, hit := range []string{"0", "256", "512", "600"} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"event_id":"e","layout_info":{"i":["LocalCPUBackend",`+hit+`]}}`)
		}))
		res, err := newClient(t, ts.URL).Lookup(context.Background(), make([]uint32, 600))
		ts.Close()
		if err != nil || len(res.Instances) != 1 {
			t.Fatalf("hit %s: %+v, %v; want one instance, no error", hit, res, err)
		}
	}
}
