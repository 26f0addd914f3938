// Shared output helpers: warnings, table headers, hit shares, prompt names.
package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lmc/internal/commands/iostreams"
	"lmc/internal/safetext"
	"lmc/internal/tokenize"
)

// warn prints warnings to stderr.
func warn(ios *iostreams.IOStreams, ws []string) {
	st := ios.ErrStyles()
	for _, w := range ws {
		fmt.Fprintln(ios.ErrOut, st.Warn.Render("warning:")+" "+safetext.EscapeText(w))
	}
}

// writeBangSection writes a titled section of "! line" entries (explain's
// Warnings and Traps).
func writeBangSection(b *strings.Builder, st *iostreams.Styles, title string, lines []string) {
	b.WriteString("\n" + st.Header.Render(title) + "\n")
	for _, l := range lines {
		b.WriteString("  " + st.Warn.Render("!") + " " + l + "\n")
	}
}

func styledHeader(st *iostreams.Styles, h []string) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = st.Header.Render(s)
	}
	return out
}

func percent(hit, total int) string {
	if total == 0 {
		return "0 of 0 tokens"
	}
	return fmt.Sprintf("%d of %d tokens (%.1f %%)", hit, total, 100*float64(hit)/float64(total))
}

func promptName(src string, p *tokenize.Prompt) string {
	if p.ID != "" {
		return "prompt " + strconv.Quote(p.ID)
	}
	if p.Index > 0 || p.Line > 1 {
		return fmt.Sprintf("%s prompt %d (line %d)", src, p.Index, p.Line)
	}
	return src
}

// givenFlagArgs renders the flags of names that were given (by any layer)
// as command-line arguments, for a hint that repeats them.
func givenFlagArgs(cmd *cobra.Command, given FlagSources, names []string) string {
	var parts []string
	for _, n := range names {
		if !given.Has(n) {
			continue
		}
		fl := cmd.Flags().Lookup(n)
		if fl == nil {
			continue
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				parts = append(parts, "--"+n, shellQuote(v))
			}
			continue
		}
		if fl.Value.Type() == "bool" {
			parts = append(parts, "--"+n+"="+fl.Value.String())
			continue
		}
		parts = append(parts, "--"+n, shellQuote(fl.Value.String()))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
