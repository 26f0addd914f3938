package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/itchyny/gojq"
)

// jqFilter holds a compiled --jq expression and the output it filters.
type jqFilter struct {
	code *gojq.Code
	buf  bytes.Buffer
}

// setupJQ compiles --jq; from then on Out is a buffer that Main filters
// when the command is done. --jq implies -o json.
func (f *Factory) setupJQ() error {
	if f.JQ == "" {
		return nil
	}
	switch f.Output {
	case "":
		f.Output = "json"
	case "json", "jsonl":
	default:
		return &UsageError{Err: fmt.Errorf("--jq filters JSON: use it with -o json or -o jsonl, not -o %s", f.Output)}
	}
	q, err := gojq.Parse(f.JQ)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--jq: %v", err)}
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--jq: %v", err)}
	}
	f.jq = &jqFilter{code: code}
	return nil
}

// Out is where a command writes its data: stdout, or the --jq filter's
// buffer when --jq is given (Main filters it when the command is done).
// Diagnostics go to IOStreams.ErrOut either way.
func (f *Factory) Out() io.Writer {
	if f.jq != nil {
		return &f.jq.buf
	}
	return f.IOStreams.Out
}

// finishJQ writes the filtered results to stdout: strings raw, everything
// else as compact JSON, one per line.
func (f *Factory) finishJQ() error {
	if f.jq == nil {
		return nil
	}
	j := f.jq
	f.jq = nil
	dec := json.NewDecoder(bytes.NewReader(j.buf.Bytes()))
	var out bytes.Buffer
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("--jq: the command's output is not JSON: %v", err)
		}
		iter := j.code.Run(v)
		for {
			r, ok := iter.Next()
			if !ok {
				break
			}
			if e, ok := r.(error); ok {
				var he *gojq.HaltError
				if errors.As(e, &he) && he.Value() == nil {
					break
				}
				return fmt.Errorf("--jq: %v", e)
			}
			if s, ok := r.(string); ok {
				out.WriteString(s)
				out.WriteByte('\n')
				continue
			}
			b, err := gojq.Marshal(r)
			if err != nil {
				return fmt.Errorf("--jq: %v", err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
	_, err := f.IOStreams.Out.Write(out.Bytes())
	return err
}
