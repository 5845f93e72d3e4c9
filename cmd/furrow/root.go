package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/config"
	"github.com/furrowdev/furrow/store/embedded"
)

// app is the state every subcommand shares: flags, configuration, logger.
type app struct {
	configPath string
	dataDir    string
	chdbLib    string
	logLevel   string
	// tokenFile holds the bearer token that client commands (sql, ingest)
	// send to a running server; see newAPIClient.
	tokenFile string

	cfg    Configuration
	logger *slog.Logger
}

func newRootCommand() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "furrow",
		Short:         "Infrastructure analytics for platform teams: flow logs, pods, cost and deploys in ClickHouse",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.load(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", os.Getenv("FURROW_CONFIG"), "configuration file (YAML; env FURROW_CONFIG); every key can be overridden by FURROW_<KEY_PATH>")
	pf.StringVar(&a.dataDir, "data", "", "data directory of the embedded engine (env FURROW_DATA; default ./data)")
	pf.StringVar(&a.chdbLib, "chdb-lib", "", "path of libchdb.so (env FURROW_CHDB_LIB; default: the cache filled by make setup)")
	pf.StringVar(&a.logLevel, "log-level", "", "debug, info, warn or error (env FURROW_LOG_LEVEL)")

	root.AddCommand(
		newVersionCommand(a),
		newMigrateCommand(a),
		newSQLCommand(a),
		newServeCommand(a),
		newConfigCommand(a),
		newIngestCommand(a),
		newReportCommand(a),
		newDemoCommand(a),
		newDashboardsCommand(a),
		newCatalogCommand(a),
		newCostCommand(a),
		newAlertsCommand(a),
		newDeployCmd(a),
	)
	// cobra adds help and completion only when it executes; add them now so
	// that the unknown-command check lists and accepts them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	rejectUnknownSubcommands(root)
	return root
}

// load reads the configuration: defaults, then the file, then FURROW_*
// variables, then flags.
func (a *app) load(cmd *cobra.Command) error {
	if cmd.HasSubCommands() {
		return nil // a grouping command only prints its help (subcommands.go)
	}
	a.cfg = DefaultConfiguration()
	if err := config.Load(a.configPath, &a.cfg, os.Environ()); err != nil {
		return err
	}
	if a.dataDir != "" {
		a.cfg.Data = a.dataDir
	}
	if a.logLevel != "" {
		a.cfg.Log.Level = a.logLevel
	}
	if err := a.cfg.Validate(); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.cfg.Log.Level)); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if a.cfg.Log.Format == "json" {
		a.logger = slog.New(slog.NewJSONHandler(os.Stderr, opts))
	} else {
		a.logger = slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return a.useConfiguredLibrary()
}

// useConfiguredLibrary honours store.embedded.chdb_lib. The library is
// loaded before main runs (see store/embedded/chdblib), so a configured
// path that differs from the loaded one restarts the process with
// FURROW_CHDB_LIB set.
func (a *app) useConfiguredLibrary() error {
	want := a.cfg.Store.Embedded.ChdbLib
	loaded, _ := embedded.LibraryPath()
	if want == "" || want == loaded || os.Getenv("FURROW_CHDB_LIB") != "" {
		return nil
	}
	if _, err := os.Stat(want); err != nil {
		return fmt.Errorf("store.embedded.chdb_lib: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), "FURROW_CHDB_LIB="+want)
	return syscall.Exec(exe, os.Args, env)
}

// signalContext is cancelled on SIGINT/SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signalNotifyContext(context.Background())
}

// parseParams turns name=value flags into a map.
func parseParams(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want name=value", kv)
		}
		out[k] = v
	}
	return out, nil
}
