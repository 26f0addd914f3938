// Command floor is a Go "hello world" that links the libraries lmc cannot
// do without and runs their package initialisation, nothing else: the
// mandated spf13/cobra, charmbracelet/lipgloss, olekukonko/tablewriter and
// go-resty/resty (and the standard library they bring: net/http,
// crypto/tls, text/template, ...), plus gojq (--jq), yaml.v3 (config
// files) and x/text's normaliser (tokenizer.json). bench-e2e.sh times it
// beside lmc --version: the start-up lmc pays before any code of its own.
package main

import (
	"os"

	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/go-resty/resty/v2"
	_ "github.com/itchyny/gojq"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/text/unicode/norm"
	_ "gopkg.in/yaml.v3"
)

func main() { os.Stdout.WriteString("hello\n") }
