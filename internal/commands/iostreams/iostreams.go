// Package iostreams owns lmc's standard streams: whether each is a terminal,
// whether colour is on, the terminal width, and the styles (the only place
// lipgloss is used).
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// IOStreams is stdin/stdout/stderr plus what lmc knows about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	colorEnabled                   bool
	termWidth                      int
	getenv                         func(string) string

	styles, errStyles *Styles
}

// System returns the process's streams. Colour follows, first match wins:
// NO_COLOR set → off; CLICOLOR=0 → off; CLICOLOR_FORCE set and not 0 → on;
// TERM=dumb → off; otherwise on exactly when stdout is a terminal.
// (--no-color is applied later by the root command.)
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, getenv: os.Getenv, termWidth: 80}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	if v := os.Getenv("LMC_FORCE_TTY"); v != "" && v != "0" && v != "false" {
		s.stdoutTTY = true
		if n, err := strconv.Atoi(v); err == nil && n > 20 {
			s.termWidth = n
		}
	}
	if s.stdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			s.termWidth = w
		}
	}
	s.colorEnabled = ColorPolicy(os.Getenv, s.stdoutTTY)
	return s
}

// ColorPolicy decides colour from the environment and whether stdout is a
// terminal.
func ColorPolicy(getenv func(string) string, stdoutTTY bool) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	if getenv("CLICOLOR") == "0" {
		return false
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	return stdoutTTY
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers: nothing is a terminal, colour is
// off, width 80.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, termWidth: 80, getenv: func(string) string { return "" }}, in, out, errOut
}

func (s *IOStreams) IsStdinTTY() bool  { return s.stdinTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v; s.styles = nil }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v; s.errStyles = nil }

// ColorEnabled reports whether stdout gets colour.
func (s *IOStreams) ColorEnabled() bool { return s.colorEnabled }

// SetColorEnabled overrides the colour decision (e.g. --no-color).
func (s *IOStreams) SetColorEnabled(v bool) {
	s.colorEnabled = v
	s.styles, s.errStyles = nil, nil
}

// TerminalWidth is the width of stdout's terminal, 80 when unknown.
func (s *IOStreams) TerminalWidth() int { return s.termWidth }

// SetTerminalWidth overrides the width.
func (s *IOStreams) SetTerminalWidth(w int) { s.termWidth = w }

// CanPrompt reports whether lmc may ask the user a question.
func (s *IOStreams) CanPrompt() bool {
	if s.getenv != nil && s.getenv("LMC_NO_PROMPT") != "" {
		return false
	}
	return s.stdinTTY && s.stdoutTTY
}

// ShowHints reports whether human hints may go to stderr (a terminal).
func (s *IOStreams) ShowHints() bool { return s.stderrTTY }

// Styles returns the styles for stdout.
func (s *IOStreams) Styles() *Styles {
	if s.styles == nil {
		s.styles = newStyles(s.Out, s.colorEnabled)
	}
	return s.styles
}

// ErrStyles returns the styles for stderr (colour only when stderr is a
// terminal and colour is allowed).
func (s *IOStreams) ErrStyles() *Styles {
	if s.errStyles == nil {
		s.errStyles = newStyles(s.ErrOut, s.colorEnabled && s.stderrTTY)
	}
	return s.errStyles
}

// Getenv reads the environment the streams were made with.
func (s *IOStreams) Getenv(k string) string {
	if s.getenv == nil {
		return ""
	}
	return s.getenv(k)
}

// SetGetenv replaces the environment lookup (tests).
func (s *IOStreams) SetGetenv(f func(string) string) { s.getenv = f }

// Truncate shortens s to width runes with a trailing ellipsis.
func Truncate(s string, width int) string {
	r := []rune(s)
	if width <= 0 || len(r) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	return string(r[:width-1]) + "…"
}

// ElideMiddle keeps the head and tail of s within width runes.
func ElideMiddle(s string, width int) string {
	r := []rune(s)
	if width <= 0 || len(r) <= width {
		return s
	}
	if width < 5 {
		return Truncate(s, width)
	}
	head := (width - 1) / 2
	tail := width - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// Plural is "1 chunk" / "2 chunks".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// clearScreen homes the cursor and erases the screen (ECMA-48 CUP + ED).
const clearScreen = "\x1b[H\x1b[2J"

// ClearScreen starts a new full-screen frame on w when stdout is a
// terminal (a --watch redraw); elsewhere it writes nothing.
func (s *IOStreams) ClearScreen(w io.Writer) error {
	if !s.stdoutTTY {
		return nil
	}
	_, err := io.WriteString(w, clearScreen)
	return err
}
