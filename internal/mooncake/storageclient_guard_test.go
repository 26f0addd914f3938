package mooncake_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Client carries the storage client's metadata calls (MountSegment,
// PutStart, UnmountSegment...) because the sandbox plays storage nodes with
// them. lmc itself must never make them against a real master: the master
// does not check who calls them, and UnmountSegment with any client id
// drops a node and its keys (mooncake-ops.md §7.4). This test keeps every
// package outside internal/mooncake from calling them.
func TestOnlyTheSandboxActsAsAStorageClient(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skip("module root not found")
	}
	forbidden := regexp.MustCompile(`\.(MountSegment|ReMountSegment|UnmountSegment|PutStart|PutEnd|PutRevoke)\(`)
	mine := filepath.Join(root, "internal", "mooncake")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == mine || strings.HasPrefix(d.Name(), ".") && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := forbidden.FindString(line); m != "" {
				t.Errorf("%s:%d calls %s, a storage-client RPC lmc must never make", p, i+1, strings.Trim(m, ".("))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
