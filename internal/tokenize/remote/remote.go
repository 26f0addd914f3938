// Package remote tokenizes text through the serving engine's own tokenize
// endpoint (vLLM's OpenAI-compatible POST /tokenize), so the token IDs are
// exactly the engine's, chat template included.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-resty/resty/v2"

	"lmc/internal/transport"
)

// Client calls POST {base}/tokenize.
type Client struct {
	rc      *resty.Client
	url     string
	display string
	Model   string
}

// Request is one tokenize call: Prompt or Messages.
type Request struct {
	Prompt   *string
	Messages json.RawMessage
	// AddSpecialTokens is add_special_tokens (BOS etc.); nil leaves vLLM's
	// default (true for a prompt, false for messages).
	AddSpecialTokens *bool
}

// Result is vLLM's answer.
type Result struct {
	Count       int      `json:"count"`
	MaxModelLen int      `json:"max_model_len"`
	Tokens      []uint32 `json:"tokens"`
}

// Error is a non-2xx answer.
type Error struct {
	Status int
	Detail string
}

func (e *Error) Error() string {
	if e.Status/100 == 2 {
		return fmt.Sprintf("tokenize endpoint answered HTTP %d with an error: %s", e.Status, e.Detail)
	}
	return fmt.Sprintf("tokenize endpoint: HTTP %d: %s", e.Status, e.Detail)
}

// New makes a client for the engine reached through peer (from
// transport.Peer for http://host:8000, with or without /v1; /tokenize is
// appended), which carries TLS, headers, redirects and body limits.
func New(peer *transport.Peer, model string) (*Client, error) {
	if peer == nil {
		return nil, errors.New("no tokenize endpoint")
	}
	url, display := peer.Base, peer.Display
	if !strings.HasSuffix(url, "/tokenize") {
		url += "/tokenize"
		display += "/tokenize"
	}
	rc := resty.NewWithClient(peer.HTTP).SetHeader("Content-Type", "application/json")
	rc.SetLogger(discard{})
	return &Client{rc: rc, url: url, display: display, Model: model}, nil
}

type discard struct{}

func (discard) Errorf(string, ...any) {}
func (discard) Warnf(string, ...any)  {}
func (discard) Debugf(string, ...any) {}

// URL is the endpoint called, as it may be printed.
func (c *Client) URL() string { return c.display }

// Tokenize sends one request. vLLM needs "model" when it serves several;
// an empty Model is left out.
func (c *Client) Tokenize(ctx context.Context, r Request) (*Result, error) {
	body := map[string]any{}
	if c.Model != "" {
		body["model"] = c.Model
	}
	switch {
	case r.Messages != nil:
		body["messages"] = r.Messages
		body["add_generation_prompt"] = true
	case r.Prompt != nil:
		body["prompt"] = *r.Prompt
	default:
		return nil, errors.New("nothing to tokenize")
	}
	if r.AddSpecialTokens != nil {
		body["add_special_tokens"] = *r.AddSpecialTokens
	}
	// The answer is token IDs for this text: bound it by the text (a token
	// is at least one byte of it, at most ~12 bytes of JSON) plus the
	// template's tokens.
	size := 0
	if r.Prompt != nil {
		size = len(*r.Prompt)
	}
	size += len(r.Messages)
	limit := int64(64<<10) + int64(size)*24
	resp, err := c.rc.R().SetContext(transport.WithBodyLimit(ctx, limit)).SetBody(body).Post(c.url)
	if err != nil {
		return nil, err
	}
	if resp.IsError() {
		return nil, &Error{Status: resp.StatusCode(), Detail: detail(resp.Body())}
	}
	return decodeResult(c.display, resp.Body())
}

// decodeResult reads a 2xx answer and checks it: one JSON object with
// "tokens", no error object, and a "count" (when given) that agrees.
func decodeResult(url string, b []byte) (*Result, error) {
	var probe struct {
		Object  string          `json:"object"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Count   *int            `json:"count"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&probe); err != nil {
		return nil, fmt.Errorf("tokenize endpoint %s: not a tokenize answer: %v", url, err)
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimRight(b, " \t\r\n"))) {
		return nil, fmt.Errorf("tokenize endpoint %s: more than one JSON document in the answer", url)
	}
	if probe.Object == "error" || (len(probe.Detail) > 0 && string(probe.Detail) != "null") {
		return nil, &Error{Status: 200, Detail: detail(b)}
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("tokenize endpoint %s: not a tokenize answer: %v", url, err)
	}
	if res.Tokens == nil {
		return nil, fmt.Errorf("tokenize endpoint %s: the answer has no \"tokens\"", url)
	}
	if probe.Count != nil && *probe.Count != len(res.Tokens) {
		return nil, fmt.Errorf("tokenize endpoint %s: the answer says count %d but holds %d tokens", url, *probe.Count, len(res.Tokens))
	}
	return &res, nil
}

// detail extracts an error message from vLLM's error bodies
// ({"object":"error","message":...} or FastAPI's {"detail":...}).
func detail(b []byte) string {
	var v struct {
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(b, &v) == nil {
		if v.Message != "" {
			return v.Message
		}
		if len(v.Detail) > 0 {
			var s string
			if json.Unmarshal(v.Detail, &s) == nil {
				return s
			}
			return string(v.Detail)
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
