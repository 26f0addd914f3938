// Package printers renders view models as table, wide, plain, json or jsonl.
// It is the only package that uses tablewriter; it makes no decisions about
// what to show, only how.
package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"lmc/internal/safetext"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Format is an output format (-o).
type Format string

const (
	Auto  Format = ""
	Table Format = "table"
	Wide  Format = "wide"
	JSON  Format = "json"
	JSONL Format = "jsonl"
	Plain Format = "plain"
)

// All lists the formats in help order.
var All = []Format{Table, Wide, JSON, JSONL, Plain}

// Names returns the format names for help and completion.
func Names(fs []Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// Parse validates a format against the ones a command supports.
func Parse(s string, supported []Format) (Format, error) {
	if s == "" || s == "auto" {
		return Auto, nil
	}
	for _, f := range supported {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unsupported output format %q: use one of %s", s, strings.Join(Names(supported), ", "))
}

// Resolve turns Auto into table on a terminal and plain otherwise.
func (f Format) Resolve(tty bool) Format {
	if f != Auto {
		return f
	}
	if tty {
		return Table
	}
	return Plain
}

// IsJSON reports json or jsonl.
func (f Format) IsJSON() bool { return f == JSON || f == JSONL }

// WriteJSON writes v as indented JSON (two spaces, no HTML escaping) and a
// newline. The document is encoded fully before anything is written, so a
// failure never leaves half a document on stdout.
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// Indented as SetIndent("", "  ") would (indent.go), and written in
	// pieces: once encoded, indenting cannot fail.
	return writeIndented(w, b.Bytes(), "  ")
}

// WriteJSONLine writes v as one compact JSON line.
func WriteJSONLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Stream handles one view of a run that prints as it goes: -o jsonl
// writes it as a line and -o plain by plain; the other formats keep it in
// *kept, for WriteKept at the end.
func Stream[V any](w io.Writer, f Format, v V, plain func() error, kept *[]V) error {
	switch f {
	case JSONL:
		return WriteJSONLine(w, v)
	case Plain:
		return plain()
	}
	*kept = append(*kept, v)
	return nil
}

// WriteKept writes the views Stream kept: -o json as one's own document
// when there is one view, else as the document batch makes of them all;
// table and wide by table. The streaming formats are written already.
func WriteKept[V any](w io.Writer, f Format, kept []V, one func(V) any, batch func([]V) any, table func() error) error {
	switch f {
	case JSON:
		if len(kept) == 1 {
			return WriteJSON(w, one(kept[0]))
		}
		return WriteJSON(w, batch(kept))
	case Table, Wide:
		return table()
	}
	return nil
}

// WriteTable renders a borderless table (two spaces between columns, no
// trailing spaces), gh/kubectl style. Cells may carry ANSI styling: widths
// are measured without it. Every other control character in a cell (cells
// hold what peers and files said) is escaped, so a cell cannot move the
// cursor, clear the screen or retitle the terminal.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	var b bytes.Buffer
	t := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Lines: tw.LinesNone, Separators: tw.SeparatorsNone},
		})),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	if header != nil {
		h := make([]any, len(header))
		for i, c := range header {
			h[i] = safetext.EscapeKeepSGR(c)
		}
		t.Header(h...)
	}
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = safetext.EscapeKeepSGR(c)
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return writeTrimmed(w, b.Bytes())
}

// WritePlain writes tab-separated rows, no header, no styling. Control
// characters in cells (tabs and newlines included, which would break the
// rows) are escaped; -o json keeps the exact strings.
func WritePlain(w io.Writer, rows [][]string) error {
	var b bytes.Buffer
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(safetext.Escape(c))
		}
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeTrimmed(w io.Writer, p []byte) error {
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		nl := bytes.HasSuffix(line, []byte("\n"))
		line = bytes.TrimRight(line, " \n")
		// tablewriter closes every cell with a reset; drop the ones that
		// only end trailing padding.
		for bytes.HasSuffix(line, []byte("\x1b[0m")) && bytes.HasSuffix(bytes.TrimRight(line[:len(line)-4], " "), []byte("\x1b[0m")) {
			line = bytes.TrimRight(line[:len(line)-4], " ")
		}
		b.Write(line)
		if nl {
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Bytes renders a byte count in IEC units with one decimal ("512 B",
// "1.5 GiB"); a value that would round to 1024.0 of a unit is shown in the
// next one.
func Bytes[T ~int64 | ~uint64](n T) string {
	if n < 0 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1023.95 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
