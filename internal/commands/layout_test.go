package commands

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The rooms of this package: a command's file (the one that declares its
// NewCmd… constructor) uses the shared files and nothing of another
// command's file; a shared file uses nothing of any command's file. Only
// root.go, which builds the tree, names the constructors.
func TestCommandFilesOnlyUseSharedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	out, err := exec.Command("go", "list", "-export", "-deps", "-json", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	var files []*ast.File
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	constructor := regexp.MustCompile(`^(NewCmd|newCmd)[A-Z]|^helpTopics$`)
	commandFile := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && constructor.MatchString(fd.Name.Name) {
				commandFile[n] = true
			}
		}
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	pkg, err := (&types.Config{Importer: imp}).Check("lmc/internal/commands", fset, files, info)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{}
	for id, obj := range info.Uses {
		if obj.Pkg() != pkg || !obj.Pos().IsValid() {
			continue
		}
		if _, isFunc := obj.(*types.Func); obj.Parent() != pkg.Scope() && !isFunc {
			continue // locals, parameters, fields
		}
		from := filepath.Base(fset.Position(id.Pos()).Filename)
		to := filepath.Base(fset.Position(obj.Pos()).Filename)
		if from == to || !commandFile[to] {
			continue
		}
		if (from == "root.go" && constructor.MatchString(obj.Name())) || strings.HasPrefix(obj.Name(), "NewCmdRoot") {
			continue // the tree names the constructors; anything may build the tree
		}
		kind := "shared file"
		if commandFile[from] {
			kind = "command file"
		}
		bad[from+" ("+kind+") uses "+obj.Name()+" of "+to+"'s command"] = true
	}
	var msgs []string
	for m := range bad {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		t.Errorf("%s: move it to a shared file", m)
	}
}

// Options structs hold values, never cobra types: what a command needs
// from cobra it reads in its constructor.
func TestOptionsHoldNoCobra(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			ts, ok := node.(*ast.TypeSpec)
			if !ok || !strings.HasSuffix(ts.Name.Name, "Options") {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				ast.Inspect(fld.Type, func(x ast.Node) bool {
					if sel, ok := x.(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "cobra" || id.Name == "pflag") {
							t.Errorf("%s: %s holds %s.%s", fset.Position(fld.Pos()), ts.Name.Name, id.Name, sel.Sel.Name)
						}
					}
					return true
				})
			}
			return true
		})
	}
}
