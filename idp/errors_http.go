package idp

import "net/http"

// HTTP returns the HTTP status of an error page of kind p.
func (p Page) HTTP() int {
	switch p {
	case pageBadRequest:
		return http.StatusBadRequest
	case pageForbidden:
		return http.StatusForbidden
	case pageUnavailable:
		return http.StatusServiceUnavailable
	case pageTooLarge:
		return http.StatusRequestEntityTooLarge
	case pageMediaType:
		return http.StatusUnsupportedMediaType
	case pageTooMany:
		return http.StatusTooManyRequests
	case pageBusy:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
