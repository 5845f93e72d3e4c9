package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// maxRequestBody bounds a JSON request body: the hand-over requests are a
// few paths and options.
const maxRequestBody = 1 << 20

// DecodeJSON reads the request's JSON body into v strictly: one JSON value,
// no unknown keys (a misspelt option would otherwise be ignored, and an
// ingest run without the window or the strictness that was asked for), at
// most 1 MB. Its errors name the key at fault and are meant for the client.
func DecodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the body must be one JSON object, with nothing after it")
	}
	return nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var me *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the body is cut short: send a whole JSON object")
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf("the body must be a JSON object, not %s", te.Value)
		}
		return fmt.Errorf("%s must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("the body is not JSON (at byte %d)", se.Offset)
	case errors.As(err, &me):
		return fmt.Errorf("the body is larger than %d bytes", me.Limit)
	}
	// json's "unknown field" error names the key.
	return fmt.Errorf("%s", err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return "a " + k
}
