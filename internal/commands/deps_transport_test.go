package commands

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Only internal/transport builds HTTP clients: no other product file
// constructs an http.Transport, an http.Client or a tls.Config, or falls
// back to net/http's defaults (which carry no body limit, redirect policy
// or redaction).
func TestOneHTTPTransport(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if strings.Contains(filepath.ToSlash(path), "internal/transport/") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var sel *ast.SelectorExpr
			switch x := n.(type) {
			case *ast.CompositeLit:
				sel, _ = x.Type.(*ast.SelectorExpr)
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "http" && (x.Sel.Name == "DefaultTransport" || x.Sel.Name == "DefaultClient" || x.Sel.Name == "Get" || x.Sel.Name == "Post") {
					t.Errorf("%s: uses http.%s; take a *transport.Peer instead", fset.Position(x.Pos()), x.Sel.Name)
				}
				return true
			}
			if sel == nil {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok {
				name := id.Name + "." + sel.Sel.Name
				switch name {
				case "http.Transport", "http.Client", "tls.Config":
					t.Errorf("%s: constructs %s; only internal/transport may", fset.Position(sel.Pos()), name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
