package boundedio

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadFileBoundsDevZero(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	_, err := ReadFile(context.Background(), link, 1<<20, "a prompt")
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1<<20 || err.Error() != link+": more than the 1 MiB limit for a prompt (reading stopped there: is it a device or an endless pipe?)" {
		t.Fatalf("err = %v, want TooLargeError at 1 MiB", err)
	}
}

func TestReadFileAtTheLimit(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(context.Background(), p, 1024, "f"); err != nil || len(b) != 1024 {
		t.Fatalf("a file of exactly the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(context.Background(), p, 1023, "f"); err == nil {
		t.Fatal("a file one byte over the limit was accepted")
	}
}

// A FIFO nobody writes to blocks a read forever; cancellation must end it
// at once.
func TestFIFOReadIsCancelable(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// Opening a FIFO for reading blocks until a writer opens it: keep a
	// writer open that never writes.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = io.ReadAll(File(ctx, r))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
}

func TestCancelableReadsEverything(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 100; i++ {
			pw.Write([]byte("0123456789"))
		}
		pw.Close()
	}()
	b, err := io.ReadAll(Cancelable(context.Background(), pr))
	if err != nil || len(b) != 1000 {
		t.Fatalf("read %d bytes, %v; want 1000, nil", len(b), err)
	}
}
