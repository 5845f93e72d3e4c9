package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// rejectUnknownSubcommands makes every command that only groups
// subcommands (furrow, furrow ingest, furrow config, …) fail on an argument
// that names none of them. Without this, cobra treats `furrow ingest
// billing` as a request for help, prints it and exits 0, so a script that
// calls a subcommand this build does not have appears to succeed. A
// grouping command given no argument still prints its help.
func rejectUnknownSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		rejectUnknownSubcommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil {
		return
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's default, which it sets on the root only
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return fmt.Errorf("%s; its commands are: %s", msg, strings.Join(subcommandNames(c), ", "))
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// subcommandNames lists the commands a user can call under c (help and
// completion included, as `--help` shows them).
func subcommandNames(c *cobra.Command) []string {
	var out []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			out = append(out, sub.Name())
		}
	}
	return out
}
