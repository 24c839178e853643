package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PeriodKind says how long a period is.
type PeriodKind int

// The kinds of period a value can belong to.
const (
	Year       PeriodKind = iota + 1 // "2014"
	SchoolYear                       // "2014-15", July to June
	Quarter                          // "2014-Q3"
	Month                            // "2014-09"
)

// Period is the span a value belongs to. The zero Period is "no period".
type Period struct {
	kind PeriodKind
	year int
	n    int // quarter 1-4 or month 1-12
}

const (
	minYear = 1900
	maxYear = 2200
)

// ParsePeriod parses a year ("2014"), school year ("2014-15"), quarter ("2014-Q3") or
// month ("2014-09"). Where a month and a school year share a form ("2010-11"), it is
// the school year; write that month as "2010-M11".
func ParsePeriod(s string) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf(
			"%q is not a period (%s); use 2014, 2014-15, 2014-Q3 or 2014-09", s, why)
	}
	if len(s) < 4 {
		return bad("too short")
	}
	year, err := strconv.Atoi(s[:4])
	if err != nil || s[0] == '+' || s[0] == '-' {
		return bad("it must start with a four-digit year")
	}
	if year < minYear || year > maxYear {
		return bad(fmt.Sprintf("the year must be between %d and %d", minYear, maxYear))
	}
	rest := s[4:]
	switch {
	case rest == "":
		return Period{kind: Year, year: year}, nil
	case len(rest) == 3 && rest[0] == '-' && (rest[1] == 'Q' || rest[1] == 'q'):
		q := int(rest[2] - '0')
		if q < 1 || q > 4 {
			return bad("the quarter must be Q1 to Q4")
		}
		return Period{kind: Quarter, year: year, n: q}, nil
	case len(rest) == 4 && (rest[:2] == "-M" || rest[:2] == "-m"):
		n, err := strconv.Atoi(rest[2:])
		if err != nil || !isDigits(rest[2:]) || n < 1 || n > 12 {
			return bad("the month must be M01 to M12")
		}
		return Period{kind: Month, year: year, n: n}, nil
	case len(rest) == 3 && rest[0] == '-':
		n, err := strconv.Atoi(rest[1:])
		if err != nil || !isDigits(rest[1:]) {
			return bad("expected two digits after the dash")
		}
		if n >= 1 && n <= 12 && n != (year+1)%100 {
			return Period{kind: Month, year: year, n: n}, nil
		}
		if n == (year+1)%100 {
			return Period{kind: SchoolYear, year: year}, nil
		}
		return bad("a month must be 01 to 12; a school year ends the year after it starts")
	}
	return bad("unknown form")
}

// MustParsePeriod parses s and panics on error; for tests and constants only.
func MustParsePeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

func isDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.kind == 0 }

// Kind returns the kind of period.
func (p Period) Kind() PeriodKind { return p.kind }

// String returns the canonical form of p, as ParsePeriod accepts it.
func (p Period) String() string {
	switch p.kind {
	case Year:
		return fmt.Sprintf("%04d", p.year)
	case SchoolYear:
		return fmt.Sprintf("%04d-%02d", p.year, (p.year+1)%100)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", p.year, p.n)
	case Month:
		if p.n == (p.year+1)%100 {
			return fmt.Sprintf("%04d-M%02d", p.year, p.n) // "2010-11" is a school year
		}
		return fmt.Sprintf("%04d-%02d", p.year, p.n)
	}
	return ""
}

// Start returns the first day of p.
func (p Period) Start() time.Time {
	switch p.kind {
	case SchoolYear:
		return date(p.year, 7)
	case Quarter:
		return date(p.year, 3*(p.n-1)+1)
	case Month:
		return date(p.year, p.n)
	}
	return date(p.year, 1)
}

// End returns the first day after p.
func (p Period) End() time.Time {
	switch p.kind {
	case SchoolYear:
		return date(p.year+1, 7)
	case Quarter:
		return date(p.year, 3*p.n+1)
	case Month:
		return date(p.year, p.n+1)
	}
	return date(p.year+1, 1)
}

func date(year, month int) time.Time {
	return time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
}

// Compare orders periods by when they end, then by when they start, so a year
// sorts before the quarter and the month that close it. It returns -1, 0 or +1.
func (p Period) Compare(q Period) int {
	if c := p.End().Compare(q.End()); c != 0 {
		return c
	}
	return p.Start().Compare(q.Start())
}

// Before reports whether p sorts before q.
func (p Period) Before(q Period) bool { return p.Compare(q) < 0 }

// SortKey returns a string whose byte order is the order of Compare, for storage.
func (p Period) SortKey() string {
	return p.End().Format("20060102") + "-" + p.Start().Format("20060102")
}

// MarshalText encodes p in its canonical form.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a period in any form ParsePeriod accepts.
func (p *Period) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = Period{}
		return nil
	}
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// PeriodContaining returns the period of the given kind that contains t.
func PeriodContaining(kind PeriodKind, t time.Time) Period {
	y, m := t.Year(), int(t.Month())
	switch kind {
	case SchoolYear:
		if m < 7 {
			y--
		}
		return Period{kind: SchoolYear, year: y}
	case Quarter:
		return Period{kind: Quarter, year: y, n: (m-1)/3 + 1}
	case Month:
		return Period{kind: Month, year: y, n: m}
	}
	return Period{kind: Year, year: y}
}
