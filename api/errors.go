package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/query/sqlapi"
	"github.com/furrowdev/furrow/store"
)

// errorBody is every error response: a message saying what to do next and,
// when ClickHouse raised it, ClickHouse's code and code name.
type errorBody struct {
	Error string `json:"error"`
	Code  int    `json:"code,omitempty"`
	Name  string `json:"name,omitempty"`
}

func abortJSON(c *gin.Context, status int, msg string, se *store.Error) {
	body := errorBody{Error: msg}
	if se != nil {
		body.Code, body.Name = se.Code, se.Name
	}
	c.AbortWithStatusJSON(status, body)
}

// sqlStatus maps a sqlapi.Runner error to an HTTP status: 403 for what the
// endpoint will not run, 413 for a query text over max_query_size, 422 for a
// query stopped by a limit, 400 for mistakes in the query (ClickHouse's
// syntax, unknown table, bad parameter), 504 when the client gave up or the
// server is stopping, and 500 for everything else (the store is down).
func sqlStatus(err error) int {
	var refused *sqlapi.RefusedError
	var limit *sqlapi.LimitError
	var se *store.Error
	switch {
	case errors.As(err, &refused):
		return http.StatusForbidden
	case errors.As(err, &limit):
		if limit.Limit == "max_query_size" {
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusUnprocessableEntity
	case errors.Is(err, sqlapi.ErrUnknownFormat), errors.Is(err, sqlapi.ErrEmptyQuery):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.As(err, &se) && se.Code != 0:
		// ClickHouse rejected the statement itself: almost always the
		// query's fault (syntax, unknown table or column, types).
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
