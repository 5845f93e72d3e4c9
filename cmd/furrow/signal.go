package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func signalNotifyContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
