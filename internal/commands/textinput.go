package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/boundedio"
	"lmc/internal/tokenize"
	"lmc/internal/tokenize/hf"
	"lmc/internal/tokenize/remote"
)

// TextFlags give a prompt as text and say how to tokenize it.
type TextFlags struct {
	Text          string
	PromptFile    string
	Messages      string
	TokenizeURL   string
	TokenizeModel string
	Tokenizer     string
	AddSpecial    bool
}

const textHelp = `Prompts can also be text: --text STRING, --prompt-file FILE, or chat
--messages FILE (OpenAI-style JSON: an array of {"role","content"}, or an
object with "messages"); JSON Lines objects may carry "prompt" or "messages"
instead of token IDs. Text is tokenized by the serving engine itself
(--tokenize-url http://ENGINE:8000, vLLM's POST /tokenize: exact by
construction, chat templates included) or offline by a Hugging Face
tokenizer.json (--tokenizer PATH: byte-level BPE of Llama-3/Qwen, or
SentencePiece-style BPE; lmc refuses a tokenizer it cannot reproduce exactly).
--add-special-tokens (default true) adds BOS as the engine does for prompts.`

func addTextFlags(cmd *cobra.Command, t *TextFlags) {
	fl := cmd.Flags()
	fl.StringVar(&t.Text, "text", "", "the prompt as text (needs --tokenizer or --tokenize-url)")
	fl.StringVar(&t.PromptFile, "prompt-file", "", "read the prompt text from FILE")
	fl.StringVar(&t.Messages, "messages", "", "chat messages JSON FILE; the engine applies its chat template (needs --tokenize-url)")
	fl.StringVar(&t.TokenizeURL, "tokenize-url", "", "serving engine URL whose POST /tokenize turns text into token IDs (vLLM)")
	fl.StringVar(&t.TokenizeModel, "tokenize-model", "", "\"model\" for the tokenize request (default: --model)")
	fl.StringVar(&t.Tokenizer, "tokenizer", "", "Hugging Face tokenizer.json to tokenize text offline")
	fl.BoolVar(&t.AddSpecial, "add-special-tokens", true, "add special tokens (BOS) to text prompts, as the engine does for completions")
	_ = cmd.MarkFlagFilename("tokenizer", "json")
	_ = cmd.RegisterFlagCompletionFunc("prompt-file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveDefault // any file name
	})
	_ = cmd.MarkFlagFilename("messages", "json")
}

// textTokenizer turns text prompts into token IDs.
type textTokenizer struct {
	f          *Factory
	local      *hf.Tokenizer
	localPath  string
	remote     *remote.Client
	addSpecial *bool // nil: the engine's default
	// Info describes the tokenizer for explain/wide output.
	Info string
}

func (f *Factory) newTextTokenizer(t *TextFlags, model string, given FlagSources) (*textTokenizer, error) {
	tt := &textTokenizer{f: f}
	if given.Has("add-special-tokens") {
		v := t.AddSpecial
		tt.addSpecial = &v
	}
	switch {
	case t.TokenizeURL != "" && t.Tokenizer != "":
		return nil, &UsageError{Err: errors.New("give one of --tokenize-url and --tokenizer")}
	case t.TokenizeURL != "":
		p, err := f.peer("--tokenize-url", t.TokenizeURL)
		if err != nil {
			return nil, err
		}
		m := t.TokenizeModel
		if m == "" {
			m = model
		}
		c, err := remote.New(p, m)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--tokenize-url: %v", err)}
		}
		tt.remote = c
		tt.Info = "engine " + c.URL()
	case t.Tokenizer != "":
		// Loaded on first use: a large tokenizer.json takes a while to
		// parse, and input of token IDs never needs it.
		tt.localPath = t.Tokenizer
	}
	return tt, nil
}

// loadLocal parses --tokenizer once.
func (tt *textTokenizer) loadLocal(ctx context.Context) error {
	if tt.local != nil || tt.localPath == "" {
		return nil
	}
	tok, err := hf.LoadContext(ctx, tt.localPath)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var tl *boundedio.TooLargeError
		if errors.As(err, &tl) {
			return &UsageError{Err: fmt.Errorf("--tokenizer %w", err)}
		}
		return &UsageError{Err: fmt.Errorf("--tokenizer %s: %v", tt.localPath, err)}
	}
	tt.local = tok
	d := tok.Describe()
	tt.Info = fmt.Sprintf("%s (%s, %d tokens; %s)", tt.localPath, d.Model, d.VocabSize, d.WithSpecial)
	return nil
}

// configured reports whether any tokenizer was given.
func (tt *textTokenizer) configured() bool {
	return tt != nil && (tt.localPath != "" || tt.remote != nil)
}

// tokenize fills p.Tokens from p.Text or p.Messages.
func (tt *textTokenizer) tokenize(ctx context.Context, src string, p *tokenize.Prompt) error {
	name := promptName(src, p)
	if !tt.configured() {
		return &UsageError{Err: fmt.Errorf("%s is text: pass --tokenizer tokenizer.json or --tokenize-url http://ENGINE:8000 to turn it into token IDs", name)}
	}
	if tt.remote != nil {
		req := remote.Request{Prompt: p.Text, Messages: p.Messages, AddSpecialTokens: tt.addSpecial}
		if p.Text != nil && tt.addSpecial == nil {
			v := true
			req.AddSpecialTokens = &v
		}
		r, err := tt.remote.Tokenize(ctx, req)
		if err != nil {
			var re *remote.Error
			if errors.As(err, &re) {
				return fmt.Errorf("tokenizing %s at %s: %w", name, tt.remote.URL(), err)
			}
			return httpErr("tokenize endpoint", tt.remote.URL(), "is the engine's HTTP server reachable? check --tokenize-url", err)
		}
		p.Tokens = r.Tokens
		return nil
	}
	if p.Messages != nil {
		return &UsageError{Err: fmt.Errorf("%s is a chat: its token IDs depend on the engine's chat template; use --tokenize-url (the engine applies it)", name)}
	}
	if err := tt.loadLocal(ctx); err != nil {
		return err
	}
	add := true
	if tt.addSpecial != nil {
		add = *tt.addSpecial
	}
	toks, err := tt.local.EncodeContext(ctx, *p.Text, add)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var pe *hf.PatternError
		var ue *hf.InvalidUTF8Error
		if errors.As(err, &pe) || errors.As(err, &ue) {
			return &UsageError{Err: fmt.Errorf("tokenizing %s: %w", name, err)}
		}
		return fmt.Errorf("tokenizing %s: %w", name, err)
	}
	p.Tokens = toks
	return nil
}

// fileErr is a failed read of a file named by flag: exit 2, unless the
// operator interrupted.
func fileErr(flag string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var tl *boundedio.TooLargeError
	var ie *tokenize.InputError
	if errors.As(err, &tl) || errors.As(err, &ie) {
		return &UsageError{Err: fmt.Errorf("%s %w", flag, err)}
	}
	return &UsageError{Err: fmt.Errorf("%s: %v", flag, err)}
}

// textPrompt builds the single prompt given by --text, --prompt-file or
// --messages (nil when none is given).
func textPrompt(ctx context.Context, t *TextFlags) (*tokenize.Prompt, string, error) {
	n := 0
	for _, s := range []string{t.Text, t.PromptFile, t.Messages} {
		if s != "" {
			n++
		}
	}
	if n == 0 {
		return nil, "", nil
	}
	if n > 1 {
		return nil, "", &UsageError{Err: errors.New("give one of --text, --prompt-file and --messages")}
	}
	switch {
	case t.Text != "":
		s := t.Text
		if err := tokenize.CheckText("--text", []byte(s)); err != nil {
			return nil, "", &UsageError{Err: err}
		}
		return &tokenize.Prompt{Line: 1, Text: &s}, "--text", nil
	case t.PromptFile != "":
		s, err := tokenize.ReadTextFile(ctx, t.PromptFile)
		if err != nil {
			return nil, "", fileErr("--prompt-file", err)
		}
		return &tokenize.Prompt{Line: 1, Text: &s}, t.PromptFile, nil
	}
	b, err := tokenize.ReadMessagesFile(ctx, t.Messages)
	if err != nil {
		return nil, "", fileErr("--messages", err)
	}
	raw := json.RawMessage(strings.TrimSpace(string(b)))
	var obj struct {
		Messages json.RawMessage `json:"messages"`
	}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &obj); err != nil || obj.Messages == nil {
			return nil, "", &UsageError{Err: fmt.Errorf("--messages %s: expected a JSON array of messages or an object with \"messages\"", t.Messages)}
		}
		raw = obj.Messages
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil || len(msgs) == 0 {
		return nil, "", &UsageError{Err: fmt.Errorf("--messages %s: expected a non-empty JSON array of {\"role\", \"content\"} messages", t.Messages)}
	}
	for i, m := range msgs {
		if m.Role == "" {
			return nil, "", &UsageError{Err: fmt.Errorf("--messages %s: message %d has no \"role\"", t.Messages, i)}
		}
	}
	return &tokenize.Prompt{Line: 1, Messages: raw}, t.Messages, nil
}
