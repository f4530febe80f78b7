// Package mlog is the test ground's stand-in for monis.app/mlog: structured logging to
// stderr in JSON, with mlog's level names. See go.mod for why it exists.
package mlog

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// LogLevel and LogFormat carry mlog's names.
type LogLevel string

type LogFormat string

const (
	LevelWarning LogLevel = "warning"
	LevelInfo    LogLevel = "info"
	LevelDebug   LogLevel = "debug"
	LevelTrace   LogLevel = "trace"
	LevelAll     LogLevel = "all"

	FormatJSON LogFormat = "json"
	FormatCLI  LogFormat = "cli"
)

// LogSpec selects the global level and format.
type LogSpec struct {
	Level  LogLevel  `json:"level,omitempty"`
	Format LogFormat `json:"format,omitempty"`
}

var verbosity atomic.Int32 // 0 = warning/info, higher = more

func rank(l LogLevel) int32 {
	switch l {
	case LevelWarning, "":
		return 0
	case LevelInfo:
		return 1
	case LevelDebug:
		return 2
	case LevelTrace:
		return 3
	default:
		return 4
	}
}

func sink() logr.Logger {
	return funcr.NewJSON(func(obj string) { fmt.Fprintln(os.Stderr, obj) }, funcr.Options{Verbosity: 4})
}

// Logger is the subset of mlog.Logger the webhook uses.
type Logger interface {
	Error(msg string, err error, keysAndValues ...any)
	Warning(msg string, keysAndValues ...any)
	Info(msg string, keysAndValues ...any)
	Debug(msg string, keysAndValues ...any)
	WithValues(keysAndValues ...any) Logger
	WithName(name string) Logger
}

type logger struct{ l logr.Logger }

func New() Logger { return logger{l: sink()} }

func (g logger) Error(msg string, err error, kv ...any) { g.l.Error(err, msg, kv...) }
func (g logger) Warning(msg string, kv ...any) {
	g.l.Info(msg, append([]any{"level", "warning"}, kv...)...)
}
func (g logger) Info(msg string, kv ...any) {
	if rank(LevelInfo) <= verbosity.Load()+1 {
		g.l.Info(msg, kv...)
	}
}
func (g logger) Debug(msg string, kv ...any) {
	if verbosity.Load() >= rank(LevelDebug) {
		g.l.Info(msg, kv...)
	}
}
func (g logger) WithValues(kv ...any) Logger { return logger{l: g.l.WithValues(kv...)} }
func (g logger) WithName(name string) Logger { return logger{l: g.l.WithName(name)} }

// Package-level helpers with mlog's names.
func Error(msg string, err error, kv ...any) { New().Error(msg, err, kv...) }
func Warning(msg string, kv ...any)          { New().Warning(msg, kv...) }
func Info(msg string, kv ...any)             { New().Info(msg, kv...) }
func Debug(msg string, kv ...any)            { New().Debug(msg, kv...) }
func WithValues(kv ...any) Logger            { return New().WithValues(kv...) }
func WithName(name string) Logger            { return New().WithName(name) }

// Fatal logs the error and exits 1, as mlog.Fatal does.
func Fatal(err error, kv ...any) {
	New().Error("fatal error", err, kv...)
	os.Exit(1)
}

// Setup returns the flush function mlog's callers defer.
func Setup() func() { return func() {} }

// Enabled reports whether messages of level l are logged.
func Enabled(l LogLevel) bool { return rank(l) <= verbosity.Load() }

// Logr is the logr.Logger controller-runtime wants.
func Logr() logr.Logger { return sink() }

// ValidateAndSetLogLevelAndFormatGlobally checks and applies a LogSpec.
func ValidateAndSetLogLevelAndFormatGlobally(_ context.Context, spec LogSpec) error {
	switch spec.Level {
	case "", LevelWarning, LevelInfo, LevelDebug, LevelTrace, LevelAll:
	default:
		return fmt.Errorf("invalid log level %q", spec.Level)
	}
	switch spec.Format {
	case "", FormatJSON, FormatCLI:
	default:
		return fmt.Errorf("invalid log format %q", spec.Format)
	}
	verbosity.Store(rank(spec.Level))
	return nil
}
