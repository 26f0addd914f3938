package iostreams

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are lmc's semantic styles. All colour lives here; call sites never
// see a colour. With colour off every style renders its text unchanged.
type Styles struct {
	Hit, Partial, Miss, Header, Muted, Warn, Error, Bold lipgloss.Style
	color                                                bool
}

func newStyles(w io.Writer, color bool) *Styles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	r.SetHasDarkBackground(true)
	return &Styles{
		Hit:     r.NewStyle().Foreground(lipgloss.Color("2")),
		Partial: r.NewStyle().Foreground(lipgloss.Color("3")),
		Miss:    r.NewStyle().Foreground(lipgloss.Color("1")),
		Header:  r.NewStyle().Bold(true),
		Muted:   r.NewStyle().Foreground(lipgloss.Color("8")),
		Warn:    r.NewStyle().Foreground(lipgloss.Color("3")),
		Error:   r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Bold:    r.NewStyle().Bold(true),
		color:   color,
	}
}

// Enabled reports whether these styles emit escape codes.
func (s *Styles) Enabled() bool { return s.color }

// HitBar draws a compact bar of width cells: filled for the hit share.
func (s *Styles) HitBar(hit, total, width int) string {
	if total <= 0 || width <= 0 {
		return ""
	}
	n := hit * width / total
	if hit > 0 && n == 0 {
		n = 1
	}
	full, empty := "", ""
	for i := 0; i < width; i++ {
		if i < n {
			full += "█"
		} else {
			empty += "░"
		}
	}
	if !s.color {
		// Piped or NO_COLOR: plain ASCII so it survives any terminal.
		full, empty = "", ""
		for i := 0; i < width; i++ {
			if i < n {
				full += "#"
			} else {
				empty += "."
			}
		}
		return full + empty
	}
	return s.Hit.Render(full) + s.Muted.Render(empty)
}
