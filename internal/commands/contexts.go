// Contexts: the config file (~/.config/lmc/config.yaml), loading and
// saving it, and applying the selected context's values to a command's
// flags. The 'lmc config' command (config.go) edits it.
package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"lmc/internal/boundedio"
	"lmc/internal/transport"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// ConfigFile is ~/.config/lmc/config.yaml: named contexts, each a set of
// flag values (master, admin, controller, key parameters, timeout, ...).
type ConfigFile struct {
	CurrentContext string                    `yaml:"current-context,omitempty"`
	Contexts       map[string]map[string]any `yaml:"contexts,omitempty"`

	path string
}

// configPath is $LMC_CONFIG, else $XDG_CONFIG_HOME/lmc/config.yaml, else
// ~/.config/lmc/config.yaml.
func (f *Factory) configPath() string {
	if p := f.Getenv("LMC_CONFIG"); p != "" {
		return p
	}
	if x := f.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "lmc", "config.yaml")
	}
	home := f.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "lmc", "config.yaml")
}

// maxConfigBytes bounds lmc's config file.
const maxConfigBytes = 1 << 20

// loadConfig reads the config file; a missing file is an empty config.
func (f *Factory) loadConfig(ctx context.Context) (*ConfigFile, error) {
	if ctx == nil {
		ctx = context.Background() // shell completion runs without one
	}
	c := &ConfigFile{path: f.configPath(), Contexts: map[string]map[string]any{}}
	if c.path == "" {
		return c, nil
	}
	b, err := boundedio.ReadFile(ctx, c.path, maxConfigBytes, "an lmc config")
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("lmc config: %v", err)}
	}
	if err := yaml.Unmarshal(b, c); err != nil {
		return nil, &UsageError{Err: fmt.Errorf("lmc config %s: %v", c.path, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if c.Contexts == nil {
		c.Contexts = map[string]map[string]any{}
	}
	if w := permissionWarning(c.path, c); w != "" {
		warn(f.IOStreams, []string{w})
	}
	return c, nil
}

// save writes the config atomically and owner-only (contexts may hold
// credentials): an exclusive temporary file (O_EXCL, mode 0600) in the same
// directory, renamed over the target. A symlinked config (dotfiles) is
// written through to the file it points at, and stays a symlink; a
// leftover or planted temporary name cannot be followed or widen the
// mode.
func (c *ConfigFile) save() error {
	if c.path == "" {
		return errors.New("no config path: set HOME, XDG_CONFIG_HOME or LMC_CONFIG")
	}
	target := c.path
	if resolved, err := filepath.EvalSymlinks(c.path); err == nil {
		target = resolved
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lmc config %s: %v", c.path, err)
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// holdsCredentials reports a config with -H headers or URLs carrying
// credentials.
func (c *ConfigFile) holdsCredentials() bool {
	for _, ctx := range c.Contexts {
		for k, v := range ctx {
			if k == "header" || k == "key" {
				return true
			}
			if s, ok := v.(string); ok && strings.Contains(s, "://") && transport.RedactRaw(s) != s {
				return true
			}
		}
	}
	return false
}

// permissionWarning is ssh's rule for a config that holds credentials: no
// one but its owner may change it (they could send the credentials
// elsewhere), nor read it.
func permissionWarning(path string, c *ConfigFile) string {
	st, err := os.Stat(path)
	if err != nil || !c.holdsCredentials() {
		return ""
	}
	switch m := st.Mode().Perm(); {
	case m&0o022 != 0:
		return fmt.Sprintf("lmc config %s holds credentials and is writable by others (mode %04o): anyone who can change it can redirect them; run chmod 600 %s", path, m, path)
	case m&0o044 != 0:
		return fmt.Sprintf("lmc config %s holds credentials and is readable by others (mode %04o); run chmod 600 %s", path, m, path)
	}
	return ""
}

// contextValue renders a context entry as a flag value.
func contextValue(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case map[string]any:
		var out []string
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, k+": "+fmt.Sprint(x[k]))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// applyContext sets flags not given on the command line or environment
// from the selected context.
func (f *Factory) applyContext(cmd *cobra.Command) error {
	cfg, err := f.loadConfig(cmd.Context())
	if err != nil {
		return err
	}
	f.Config = cfg
	name := f.ContextName
	src := "flag --context"
	if e, ok := f.EnvSources["context"]; ok {
		src = e
	}
	if name == "" {
		if e := f.Getenv("LMC_CONTEXT"); e != "" {
			name, src = e, "env LMC_CONTEXT"
		} else {
			name, src = cfg.CurrentContext, "current-context"
		}
	}
	if name == "" {
		return nil
	}
	ctxVals, ok := cfg.Contexts[name]
	if !ok {
		if src == "current-context" {
			return &UsageError{Err: fmt.Errorf("current-context %q is not defined in %s", name, cfg.path)}
		}
		return &UsageError{Err: fmt.Errorf("no context %q in %s (%s); 'lmc config get-contexts' lists them", name, cfg.path, src)}
	}
	f.ActiveContext = name
	keys := make([]string, 0, len(ctxVals))
	for k := range ctxVals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fl := cmd.Flags().Lookup(k)
		if fl == nil || fl.Changed {
			continue // not a flag of this command, or given by flag/env
		}
		vals := contextValue(ctxVals[k])
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(vals); err != nil {
				return &UsageError{Err: fmt.Errorf("context %q: %s: %v", name, k, err)}
			}
			fl.Changed = true
		} else if err := cmd.Flags().Set(k, strings.Join(vals, ",")); err != nil {
			return &UsageError{Err: fmt.Errorf("context %q: %s: %v", name, k, err)}
		}
		f.EnvSources[k] = "context " + name
	}
	return nil
}

// contextNames lists the contexts' names, sorted.
func (c *ConfigFile) contextNames() []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func completeContexts(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.loadConfig(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range cfg.contextNames() {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// redactSettings hides header values and keys in output.
func redactSettings(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "header" {
			var hs []string
			for _, h := range contextValue(v) {
				name, _, _ := strings.Cut(h, ":")
				hs = append(hs, strings.TrimSpace(name)+": <redacted>")
			}
			out[k] = hs
			continue
		}
		if s, ok := v.(string); ok {
			v = transport.RedactRaw(s)
		}
		out[k] = v
	}
	return out
}
