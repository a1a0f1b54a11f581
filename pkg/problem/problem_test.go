package problem

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

var errNotFound = errors.New("product not found")

func TestMapperMapsWrappedSentinel(t *testing.T) {
	m := NewMapper(Mapping{Err: errNotFound, Status: http.StatusNotFound, Slug: "not-found", Title: "Not Found", Detail: true})

	p, ok := m.Map(fmt.Errorf("get product 42: %w", errNotFound))
	if !ok || p.Status != http.StatusNotFound || p.Type != TypePrefix+"not-found" {
		t.Fatalf("got %+v, %v", p, ok)
	}
	if p.Detail != "get product 42: product not found" {
		t.Fatalf("detail = %q", p.Detail)
	}
}

func TestMapperValidationListsEveryField(t *testing.T) {
	err := fmt.Errorf("create: %w", Validation(Field("email", "must be an email"), Field("password", "too short")))

	p, ok := NewMapper().Map(err)
	if !ok || p.Status != http.StatusBadRequest || len(p.Errors) != 2 || p.Errors[1].Field != "password" {
		t.Fatalf("got %+v", p)
	}
}

func TestMapperUnknownIsInternalWithoutLeaking(t *testing.T) {
	p, ok := NewMapper().Map(errors.New("pq: password authentication failed for user x"))
	if ok || p.Status != http.StatusInternalServerError || p.Detail != Internal.Detail {
		t.Fatalf("got %+v, %v", p, ok)
	}
}

func TestErrorCarriesItsProblem(t *testing.T) {
	p, ok := NewMapper().Map(Errorf(http.StatusRequestEntityTooLarge, "body-too-large", "Body too large", "limit is %d bytes", 10))
	if !ok || p.Status != 413 || p.Detail != "limit is 10 bytes" {
		t.Fatalf("got %+v", p)
	}
}
