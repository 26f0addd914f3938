package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"lmc/internal/boundedio"
	"lmc/internal/commands/iostreams"
	"lmc/internal/phasetime"
	"lmc/internal/tokenize"
)

// InputFlags select the token input: a positional FILE, "-" for stdin, or
// --tokens.
type InputFlags struct {
	Tokens string
	Text   TextFlags
}

func addInputFlags(cmd *cobra.Command, in *InputFlags) {
	inGroup(cmd, groupInput, func() { defineInputFlags(cmd, in) })
}

func defineInputFlags(cmd *cobra.Command, in *InputFlags) {
	// FILE completes file names (the root turns file completion off).
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cmd.Flags().StringVar(&in.Tokens, "tokens", "", "token IDs inline, e.g. 1,2,3 (instead of FILE)")
	addTextFlags(cmd, &in.Text)
}

const inputHelp = `Token input is FILE, - for stdin (also a pipe when no FILE is given),
or --tokens 1,2,3. The format is detected: a JSON array of token IDs; a JSON
object with "tokens", "token_ids", "prompt_token_ids" (vLLM's /tokenize
answer) or "input_ids" (Hugging Face's); JSON Lines, one prompt per line
(array or object, with an optional "id"); or plain integers separated by
spaces, newlines or commas. Token IDs are integers 0..4294967295.

` + textHelp

// tokenSource is an opened token input.
type tokenSource struct {
	rd    *tokenize.Reader
	name  string
	close func()

	single *tokenize.Prompt // --text/--prompt-file/--messages
	tt     *textTokenizer
	ctx    context.Context
	times  *phasetime.Recorder
}

// given reports whether token input was named: FILE or -, --tokens, or
// text (--text, --prompt-file, --messages).
func (in *InputFlags) given(args []string) bool {
	return len(args) > 0 || in.Tokens != "" || in.Text.Text != "" || in.Text.PromptFile != "" || in.Text.Messages != ""
}

// openTokens opens the token input; model is the engine's model name, sent
// to a --tokenize-url endpoint that serves several.
func (f *Factory) openTokens(ctx context.Context, args []string, in *InputFlags, model string) (*tokenSource, error) {
	src, err := f.openTokenInput(ctx, args, in)
	if err != nil {
		return nil, err
	}
	src.ctx, src.times = ctx, f.Times
	if src.tt, err = f.newTextTokenizer(&in.Text, model, f.Given); err != nil {
		src.close()
		return nil, err
	}
	return src, nil
}

// openPrompt opens the token input and picks prompt n of it (--prompt).
func (f *Factory) openPrompt(ctx context.Context, args []string, in *InputFlags, model string, n int) (*tokenSource, *tokenize.Prompt, error) {
	src, err := f.openTokens(ctx, args, in, model)
	if err != nil {
		return nil, nil, err
	}
	prompt, err := src.promptAt(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	return src, prompt, nil
}

func (f *Factory) openTokenInput(ctx context.Context, args []string, in *InputFlags) (*tokenSource, error) {
	single, name, err := textPrompt(ctx, &in.Text)
	if err != nil {
		return nil, err
	}
	if single != nil {
		if in.Tokens != "" || len(args) > 0 {
			return nil, &UsageError{Err: errors.New("give the prompt once: FILE, -, --tokens, --text, --prompt-file or --messages")}
		}
		return &tokenSource{single: single, name: name, close: func() {}}, nil
	}
	switch {
	case in.Tokens != "" && len(args) > 0:
		return nil, &UsageError{Err: errors.New("give token input once: FILE, - or --tokens")}
	case in.Tokens != "":
		return &tokenSource{rd: tokenize.NewReader(strings.NewReader(in.Tokens), "--tokens"), name: "--tokens", close: func() {}}, nil
	case len(args) == 0 && !f.IOStreams.IsStdinTTY() && f.IOStreams.In != nil && stdinHasData(f.IOStreams.In):
		// Piped input with no FILE: read stdin, as "-" would.
		args = []string{"-"}
		return f.openTokenInput(ctx, args, in)
	case len(args) == 0:
		return nil, &UsageError{Err: errors.New("no token input: pass FILE, - for stdin, or --tokens 1,2,3 (or text: --text, --prompt-file, --messages)")}
	case len(args) > 1:
		return nil, &UsageError{Err: fmt.Errorf("one token input expected, got %d arguments", len(args))}
	case args[0] == "-":
		in := f.IOStreams.In
		if fh, ok := in.(*os.File); ok {
			in = boundedio.File(ctx, fh)
		} else {
			in = boundedio.Cancelable(ctx, in)
		}
		return &tokenSource{rd: tokenize.NewReader(in, "<stdin>"), name: "<stdin>", close: func() {}}, nil
	}
	fh, err := os.Open(args[0])
	if err != nil {
		notExist := errors.Is(err, os.ErrNotExist)
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %v", args[0], pe.Err)
		}
		if notExist && looksLikeText(args[0]) {
			return nil, &UsageError{Err: fmt.Errorf("token input %v; to look a prompt up by its text use --text %s (with --tokenizer tokenizer.json or --tokenize-url http://ENGINE:8000)", err, shellQuote(args[0]))}
		}
		return nil, &UsageError{Err: fmt.Errorf("token input %v", err)}
	}
	rd := tokenize.NewReader(boundedio.File(ctx, fh), args[0])
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
		rd.SetSize(st.Size())
	}
	return &tokenSource{rd: rd, name: args[0], close: func() { fh.Close() }}, nil
}

// looksLikeText reports an argument that is more likely a prompt than a
// file name: it has spaces, or neither a path separator nor an extension.
func looksLikeText(s string) bool {
	return strings.ContainsAny(s, " \t\n") || (!strings.ContainsAny(s, "/.\\") && len(s) > 0)
}

// stdinHasData reports whether stdin is a pipe, a file or something else
// that is not a terminal and not /dev/null: then "lmc keys" with no FILE
// reads it, as "echo 1 2 3 | lmc keys" means.
func stdinHasData(in io.Reader) bool {
	fh, ok := in.(*os.File)
	if !ok {
		// Tests and embedders hand a reader: read it unless it is known to
		// be empty.
		if l, ok := in.(interface{ Len() int }); ok {
			return l.Len() > 0
		}
		return true
	}
	st, err := fh.Stat()
	if err != nil {
		return false
	}
	m := st.Mode()
	if m&os.ModeCharDevice != 0 {
		return false // a terminal or /dev/null
	}
	return m&os.ModeNamedPipe != 0 || m.IsRegular() && st.Size() > 0 || m&os.ModeSocket != 0
}

// inputHint adds what the operator probably meant to an input error at
// the very start of the input: text or a chat where token IDs were
// expected.
func inputHint(name string, err error) error {
	var ie *tokenize.InputError
	if !errors.As(err, &ie) || ie.Line != 1 || ie.Hint != "" {
		return err
	}
	found := strings.TrimPrefix(ie.Found, `"`)
	switch {
	case strings.HasPrefix(found, `{\"role\"`) || strings.HasPrefix(found, "{\"role\""):
		ie.Hint = "this looks like chat messages: use --messages " + shellQuote(name) + " with --tokenize-url http://ENGINE:8000 (the engine applies its chat template)"
	case ie.Col == 1 && strings.HasPrefix(ie.Found, `"`) && found != "" && unicode.IsLetter([]rune(found)[0]):
		ie.Hint = "this looks like text: use --prompt-file " + shellQuote(name) + " with --tokenizer tokenizer.json or --tokenize-url http://ENGINE:8000"
	}
	return err
}

// eachPrompt streams prompts to fn.
func (s *tokenSource) eachPrompt(fn func(*tokenize.Prompt) error) error {
	defer s.close()
	if s.single != nil {
		t := time.Now()
		p := *s.single
		if err := s.tt.tokenize(s.ctx, s.name, &p); err != nil {
			return err
		}
		s.times.Since(phasetime.Read, t)
		return fn(&p)
	}
	for {
		t := time.Now()
		p, err := s.rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return inputHint(s.name, err)
		}
		if p.HasText() {
			if err := s.tt.tokenize(s.ctx, s.name, p); err != nil {
				return err
			}
		}
		s.times.Since(phasetime.Read, t)
		if err := fn(p); err != nil {
			return err
		}
	}
}

// promptAt returns prompt n (0-based, --prompt) of the input: the one
// "pick a prompt" helper. It reads no further than it must, except to
// count the prompts for the error when n is out of range.
func (s *tokenSource) promptAt(ctx context.Context, n int) (*tokenize.Prompt, error) {
	if n < 0 {
		return nil, &UsageError{Err: fmt.Errorf("--prompt %d: prompts are numbered from 0", n)}
	}
	var got *tokenize.Prompt
	count := 0
	if err := s.eachPrompt(func(p *tokenize.Prompt) error {
		if count == n {
			got = p
		}
		count++
		return ctx.Err()
	}); err != nil {
		return nil, err
	}
	if got == nil {
		return nil, &UsageError{Err: fmt.Errorf("--prompt %d: %s holds %s (--prompt counts from 0)", n, s.name, iostreams.Plural(count, "prompt"))}
	}
	return got, nil
}

// onlyPrompt returns the input's single prompt; what names the operation
// for the error when the input holds more.
func (s *tokenSource) onlyPrompt(ctx context.Context, what string) (*tokenize.Prompt, error) {
	var got *tokenize.Prompt
	count := 0
	if err := s.eachPrompt(func(p *tokenize.Prompt) error {
		got = p
		count++
		return ctx.Err()
	}); err != nil {
		return nil, err
	}
	if count != 1 {
		return nil, &UsageError{Err: fmt.Errorf("%s holds %s; %s takes one", s.name, iostreams.Plural(count, "prompt"), what)}
	}
	return got, nil
}
