package hf_test

import (
	"fmt"
	"log"

	"lmc/internal/tokenize/hf"
)

func Example() {
	tok, err := hf.Load("testdata/sp/tokenizer.json") // or a model directory
	if err != nil {
		log.Fatal(err)
	}
	d := tok.Describe()
	fmt.Println(d.Model)
	fmt.Println(d.WithSpecial)

	ids, err := tok.Encode("Hello world", true) // add_special_tokens=true: <s> first
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range ids[:3] {
		s, _ := tok.Token(id)
		fmt.Printf("%d %q\n", id, s)
	}

	// Reuse one buffer for many prompts.
	var buf []uint32
	for _, p := range []string{"a", "b c"} {
		if buf, err = tok.AppendEncode(buf[:0], p, false); err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(buf))
	}
	// Output:
	// BPE (byte fallback, unk "<unk>" fused)
	// add_special_tokens adds <s> (1) before the text
	// 1 "<s>"
	// 334 "▁"
	// 290 "H"
	// 1
	// 3
}
