package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error for every adapter. The HTTP layer maps each code to a
// status in exactly one place.
type Code string

// The error vocabulary of Backbone.
const (
	CodeInvalid            Code = "invalid"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodePreconditionFailed Code = "precondition_failed"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeUnavailable        Code = "unavailable"
	CodeInternal           Code = "internal"
)

// FieldError names one invalid input field and why it is invalid.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is an error a user can act on: a code, a message and, for invalid input,
// the fields at fault.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrConcurrency is returned by an event store when the aggregate changed since
// it was loaded: the append was refused and nothing was written.
var ErrConcurrency = &Error{
	Code:    CodeConflict,
	Message: "the aggregate was changed by another writer; reload and try again",
}

// fieldErrors collects field errors while a command is validated.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// err returns nil when no field failed, else an invalid-input *Error.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "the input is invalid", Fields: fe}
}

// Invalid returns an invalid-input error naming one field.
func Invalid(field, format string, args ...any) *Error {
	var fe fieldErrors
	fe.add(field, format, args...)
	return fe.err().(*Error)
}
